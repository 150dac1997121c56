//! Shared bins for the histogram statistics (PSI, Jensen–Shannon, KL).
//!
//! Numeric samples are binned on edges taken from the reference sample:
//! - `quantile` (default): the interior edges are `numpy.quantile(reference, k / bins)` for
//!   k = 1..bins-1 (numpy's default linear interpolation), duplicates removed;
//! - `equal_width`: `min + k · (max − min) / bins` over the reference range, duplicates removed.
//!
//! A value v falls in bin `#{edges ≤ v}` (bins are `[e_{k-1}, e_k)`, as `numpy.searchsorted(...,
//! side='right')`). The outer bins are open-ended, so no current value is ever dropped. Text and
//! boolean values bin by category: one bin per category seen in either sample.

use std::sync::Arc;

use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::AccumulatorArgs;

use datafusion::arrow::datatypes::DataType;

use super::arguments::{
    binary_label, check_arity, coerce_argument, constant_integer, constant_text, integer,
    numeric_or_category, text,
};
use super::bin_counts::{bin_counts, counted_bin_counts, cut_buckets};
use super::categories::{CategoryCounts, CategoryStatistic};
use super::order_statistics::order_statistics;
use super::sample::worth_counting_pair;
use super::samples::{SampleStatistic, Samples};
use crate::error::invalid_argument;

pub(crate) const DEFAULT_BINS: usize = 10;

/// The proportion that replaces an empty bin where a logarithm would otherwise be infinite (as
/// Evidently does): 1e-4.
pub(crate) const EMPTY_BIN_PROPORTION: f64 = 1e-4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Binning {
    Quantile,
    EqualWidth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BinSpec {
    pub bins: usize,
    pub binning: Binning,
}

impl BinSpec {
    /// Reads the constant `bins` and `binning` arguments at the given positions.
    pub(crate) fn from_arguments(
        function: &str,
        args: &AccumulatorArgs,
        bins_at: usize,
        binning_at: Option<usize>,
    ) -> Result<Self> {
        let bins = match constant_integer(function, "bins", args, bins_at)? {
            None => DEFAULT_BINS,
            Some(bins) if (2..=10_000).contains(&bins) => bins as usize,
            Some(bins) => {
                return Err(invalid_argument(
                    function,
                    format!("bins must be between 2 and 10000, got {bins}"),
                ));
            }
        };
        let binning = match binning_at {
            None => Binning::Quantile,
            Some(index) => match constant_text(function, "binning", args, index)?.as_deref() {
                None | Some("quantile") => Binning::Quantile,
                Some("equal_width") => Binning::EqualWidth,
                Some(other) => {
                    return Err(invalid_argument(
                        function,
                        format!("binning must be 'quantile' or 'equal_width', got '{other}'"),
                    ));
                }
            },
        };
        Ok(Self { bins, binning })
    }
}

/// Bin proportions (and counts) of both samples over the same bins.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Histogram {
    pub reference: Vec<f64>,
    pub current: Vec<f64>,
    pub reference_count: u64,
    pub current_count: u64,
    pub counts: [Vec<u64>; 2],
}

impl Histogram {
    pub(crate) fn bins(&self) -> usize {
        self.reference.len()
    }

    pub(crate) fn from_counts(reference: Vec<u64>, current: Vec<u64>) -> Option<Self> {
        let reference_count: u64 = reference.iter().sum();
        let current_count: u64 = current.iter().sum();
        if reference_count == 0 || current_count == 0 {
            return None;
        }
        let shares = |counts: &[u64], total: u64| {
            counts
                .iter()
                .map(|&count| count as f64 / total as f64)
                .collect()
        };
        Some(Self {
            reference: shares(&reference, reference_count),
            current: shares(&current, current_count),
            reference_count,
            current_count,
            counts: [reference, current],
        })
    }

    /// `None` when either sample is empty. A large current sample's values are checked here: a
    /// non-finite one is an error of `function`.
    pub(crate) fn of_samples(
        function: &str,
        spec: BinSpec,
        samples: &mut Samples,
    ) -> Result<Option<Self>> {
        if samples.reference.is_empty() || samples.current.is_empty() {
            return Ok(None);
        }
        if worth_counting_pair(&samples.reference, &samples.current) {
            return Self::of_counted(function, spec, samples);
        }
        let reference = samples.reference.values_mut();
        let edges = match spec.binning {
            Binning::Quantile => quantile_edges(reference, spec.bins),
            Binning::EqualWidth => equal_width_edges(reference, spec.bins),
        };
        Ok(Self::from_counts(
            bin_counts(&edges, reference),
            bin_counts(&edges, samples.current.values_mut()),
        ))
    }

    /// The same from the samples' bucket counts. The passes that count the reference also
    /// gather its buckets that hold the ranks the edges need (`Sample::gather_ranks`), and a
    /// selection in them gives the edges; those buckets also hold every reference value an edge
    /// can cut. One pass over the current sample counts it into buckets and gathers the few
    /// buckets the edges cut, which is all its binning needs. The counts check both samples.
    fn of_counted(function: &str, spec: BinSpec, samples: &mut Samples) -> Result<Option<Self>> {
        let last = samples.reference.len() - 1;
        let quantiles =
            (spec.binning == Binning::Quantile).then(|| QuantilePlan::new(last, spec.bins));
        let ranks = quantiles
            .as_ref()
            .map_or(vec![0, last], |plan| plan.wanted.clone());
        let (located, mut known_reference) = samples.reference.gather_ranks(function, &ranks)?;
        let values = located.select(&mut known_reference);
        let edges = match &quantiles {
            Some(plan) => plan.edges(&values),
            None => equal_width_between(values[0], values[1], spec.bins),
        };
        let reference_bins =
            counted_bin_counts(&samples.reference.counted(), &edges, Some(&known_reference));
        let known_current = samples.current.count_and_gather(&cut_buckets(&edges));
        samples.current.check(function)?;
        let current_bins =
            counted_bin_counts(&samples.current.counted(), &edges, Some(&known_current));
        Ok(Self::from_counts(reference_bins, current_bins))
    }

    pub(crate) fn of_categories(counts: &CategoryCounts) -> Option<Self> {
        let (reference, current) = counts
            .sorted()
            .into_iter()
            .map(|(_, [in_reference, in_current])| (in_reference, in_current))
            .unzip();
        Self::from_counts(reference, current)
    }
}

/// numpy's `_lerp`: from the nearer end, so that gamma ≥ ½ rounds like numpy.
fn interpolate(a: f64, b: f64, gamma: f64) -> f64 {
    let difference = b - a;
    if gamma >= 0.5 {
        b - difference * (1.0 - gamma)
    } else {
        a + difference * gamma
    }
}

fn deduplicated(mut edges: Vec<f64>) -> Vec<f64> {
    edges.sort_unstable_by(f64::total_cmp);
    edges.dedup();
    edges
}

/// The ranks that the interior quantile edges of a sample of `last + 1` values need: each edge
/// the values of rank ⌊last·q⌋ and the one after.
struct QuantilePlan {
    last: usize,
    positions: Vec<f64>,
    ranks: Vec<usize>,
    /// `ranks` sorted and deduplicated.
    wanted: Vec<usize>,
}

impl QuantilePlan {
    fn new(last: usize, bins: usize) -> Self {
        let positions: Vec<f64> = (1..bins)
            .map(|k| last as f64 * (k as f64 / bins as f64))
            .collect();
        let ranks: Vec<usize> = positions
            .iter()
            .flat_map(|position| {
                let below = (position.floor() as usize).min(last);
                [below, (below + 1).min(last)]
            })
            .collect();
        let mut wanted = ranks.clone();
        wanted.sort_unstable();
        wanted.dedup();
        Self {
            last,
            positions,
            ranks,
            wanted,
        }
    }

    /// The edges, given the values at `wanted`, deduplicated.
    fn edges(&self, found: &[f64]) -> Vec<f64> {
        let value_at = |rank: &usize| found[self.wanted.partition_point(|wanted| wanted < rank)];
        let values: Vec<f64> = self.ranks.iter().map(value_at).collect();
        let edges = self
            .positions
            .iter()
            .zip(values.chunks_exact(2))
            .map(|(&position, pair)| {
                if position >= self.last as f64 {
                    pair[0]
                } else {
                    interpolate(pair[0], pair[1], position - position.floor())
                }
            })
            .collect();
        deduplicated(edges)
    }
}

/// The interior quantile edges from exact order statistics (no full sort).
pub(crate) fn quantile_edges(reference: &mut [f64], bins: usize) -> Vec<f64> {
    let plan = QuantilePlan::new(reference.len() - 1, bins);
    plan.edges(&order_statistics(reference, &plan.wanted))
}

fn equal_width_edges(reference: &[f64], bins: usize) -> Vec<f64> {
    let low = reference.iter().copied().fold(f64::INFINITY, f64::min);
    let high = reference.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    equal_width_between(low, high, bins)
}

fn equal_width_between(low: f64, high: f64, bins: usize) -> Vec<f64> {
    let width = (high - low) / bins as f64;
    deduplicated((1..bins).map(|k| low + k as f64 * width).collect())
}

/// A number computed from a histogram; `None` when it is undefined.
pub(crate) type HistogramFormula = fn(&Histogram) -> Option<f64>;

/// Applies a histogram formula to numeric samples (binned by `spec`) or to categories.
#[derive(Debug)]
pub(crate) struct HistogramStatistic {
    pub spec: BinSpec,
    pub formula: HistogramFormula,
}

impl HistogramStatistic {
    pub(crate) fn shared(spec: BinSpec, formula: HistogramFormula) -> Arc<Self> {
        Arc::new(Self { spec, formula })
    }

    fn value(&self, histogram: Option<Histogram>) -> ScalarValue {
        ScalarValue::Float64(histogram.as_ref().and_then(self.formula))
    }
}

impl SampleStatistic for HistogramStatistic {
    fn evaluate(&self, function: &str, samples: &mut Samples) -> Result<ScalarValue> {
        Ok(self.value(Histogram::of_samples(function, self.spec, samples)?))
    }

    fn checks_counted_samples(&self) -> bool {
        true
    }
}

impl CategoryStatistic for HistogramStatistic {
    fn evaluate(&self, counts: &CategoryCounts) -> Result<ScalarValue> {
        Ok(self.value(Histogram::of_categories(counts)))
    }
}

/// Coerces `(value, is_reference [, bins [, binning]])`; `max_arguments` is 3 where the function
/// has no `binning` argument.
pub(crate) fn coerce_histogram_arguments(
    function: &str,
    signature: &str,
    arg_types: &[DataType],
    max_arguments: usize,
) -> Result<Vec<DataType>> {
    check_arity(function, signature, arg_types, 2..=max_arguments)?;
    let mut coerced = vec![
        coerce_argument(function, signature, arg_types, 0, numeric_or_category)?,
        coerce_argument(function, signature, arg_types, 1, binary_label)?,
    ];
    if arg_types.len() > 2 {
        coerced.push(coerce_argument(function, signature, arg_types, 2, integer)?);
    }
    if arg_types.len() > 3 {
        coerced.push(coerce_argument(function, signature, arg_types, 3, text)?);
    }
    Ok(coerced)
}

/// Replaces an empty bin's proportion by [`EMPTY_BIN_PROPORTION`].
pub(crate) fn smoothed(proportion: f64) -> f64 {
    if proportion == 0.0 {
        EMPTY_BIN_PROPORTION
    } else {
        proportion
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::order_statistics::GUIDED_FROM;
    use crate::common::sample::Sample;

    #[test]
    fn quantile_edges_match_numpy_bit_for_bit() {
        // numpy.quantile([1, 2, 3, 4], np.arange(1, 10) / 10)
        let expected = [
            1.3,
            1.6,
            1.9,
            2.2,
            2.5,
            2.8,
            3.0999999999999996,
            3.4000000000000004,
            3.7,
        ];
        assert_eq!(quantile_edges(&mut [4.0, 1.0, 3.0, 2.0], 10), expected);
        // numpy.quantile([5, 1, 1, 2, 9, 9, 9, 3, 0.5, 7, 7], [0.25, 0.5, 0.75]), unsorted input
        let mut values = [5.0, 1.0, 1.0, 2.0, 9.0, 9.0, 9.0, 3.0, 0.5, 7.0, 7.0];
        assert_eq!(quantile_edges(&mut values, 4), [1.5, 5.0, 8.0]);
    }

    #[test]
    fn values_on_an_edge_go_to_the_upper_bin_and_outer_bins_are_open() {
        let mut samples = Samples::new(vec![1.0, 2.0, 3.0, 4.0, 5.0], vec![-100.0, 3.0, 100.0]);
        let spec = BinSpec {
            bins: 2,
            binning: Binning::Quantile,
        };
        let histogram = Histogram::of_samples("t", spec, &mut samples)
            .unwrap()
            .expect("both samples present");
        // one edge at the median 3.0: [-inf, 3) and [3, inf)
        assert_eq!(histogram.reference, vec![0.4, 0.6]);
        assert_eq!(histogram.current, vec![1.0 / 3.0, 2.0 / 3.0]);
    }

    #[test]
    fn constant_reference_collapses_to_two_bins() {
        let mut samples = Samples::new(vec![7.0; 4], vec![1.0, 7.0, 9.0]);
        let spec = BinSpec {
            bins: 10,
            binning: Binning::EqualWidth,
        };
        let histogram = Histogram::of_samples("t", spec, &mut samples)
            .unwrap()
            .expect("both samples present");
        assert_eq!(histogram.bins(), 2);
        assert_eq!(histogram.reference, vec![0.0, 1.0]);
    }

    /// numpy's definition: edges from the sorted reference, every value compared with them.
    fn by_definition(spec: BinSpec, reference: &[f64], current: &[f64]) -> [Vec<u64>; 2] {
        let mut sorted = reference.to_vec();
        sorted.sort_by(f64::total_cmp);
        let last = sorted.len() - 1;
        let edges = match spec.binning {
            Binning::Quantile => deduplicated(
                (1..spec.bins)
                    .map(|k| {
                        let position = last as f64 * (k as f64 / spec.bins as f64);
                        let below = position.floor() as usize;
                        if position >= last as f64 {
                            sorted[below]
                        } else {
                            interpolate(sorted[below], sorted[below + 1], position.fract())
                        }
                    })
                    .collect(),
            ),
            Binning::EqualWidth => equal_width_between(sorted[0], sorted[last], spec.bins),
        };
        let count = |values: &[f64]| {
            let mut counts = vec![0; edges.len() + 1];
            for &value in values {
                counts[edges.iter().filter(|&&edge| edge <= value).count()] += 1;
            }
            counts
        };
        [count(reference), count(current)]
    }

    /// A sample held the way an aggregate holds it: in pieces of 10000 values.
    fn held(values: &[f64]) -> Sample {
        let mut sample = Sample::default();
        for piece in values.chunks(10_000) {
            sample.append(piece.to_vec().into());
        }
        sample
    }

    fn scrambled(n: usize, seed: usize, spread: usize, map: impl Fn(f64) -> f64) -> Vec<f64> {
        (0..n)
            .map(|i| map(((i * 7_919 + seed) % spread) as f64 / spread as f64))
            .collect()
    }

    #[test]
    fn counted_samples_bin_as_the_definition() {
        let cases = [
            // spread, shifted and rescaled, with both signs
            (
                scrambled(300_000, 1, 299_993, |u| (u - 0.5) * (1.0 + u)),
                scrambled(250_000, 7, 249_989, |u| 0.01 + 1.1 * (u - 0.5) * (1.0 + u)),
            ),
            // forty levels: edges fall on values, with ties across them
            (
                scrambled(300_000, 3, 40, |u| 2.0 * u),
                scrambled(200_000, 5, 37, |u| 2.0 * u),
            ),
            // zeros of both signs and values just beside them: an edge at 0 cuts −0's bucket
            (
                scrambled(200_000, 11, 8, |u| match (u * 8.0) as usize {
                    0..=3 => 0.0,
                    4 => -0.0,
                    5 => -1e-310,
                    6 => 1e-310,
                    _ => 1.0,
                }),
                scrambled(150_000, 13, 7, |u| if u < 0.5 { -0.0 } else { -1e-300 }),
            ),
            // every value in one bucket of top key bits
            (
                scrambled(300_000, 17, 299_977, |u| 1.0 + u * 1e-12),
                scrambled(100, 19, 97, |u| 1.0 + u * 2e-12),
            ),
            // a gap in the reference: the median edge (≈ 50) lies in a bucket that holds no
            // reference value, and the current sample has values there
            (
                scrambled(200_000, 29, 199_999, |u| if u < 0.5 { u } else { 99.5 + u }),
                scrambled(150_000, 31, 149_993, |u| 101.0 * u),
            ),
            // a constant reference
            (
                vec![7.0; 120_000],
                scrambled(120_000, 23, 1000, |u| 6.0 + 2.0 * u),
            ),
            // a reference large enough to be counted with a guide (`Sample::gather_ranks`)
            (
                scrambled(GUIDED_FROM + 1, 37, 1_048_573, |u| (u - 0.3) * (2.0 + u)),
                scrambled(100_000, 41, 99_991, |u| (u - 0.25) * (2.0 + u)),
            ),
        ];
        for (reference, current) in &cases {
            for (bins, binning) in [
                (10, Binning::Quantile),
                (7, Binning::Quantile),
                (10, Binning::EqualWidth),
            ] {
                let spec = BinSpec { bins, binning };
                let mut samples = Samples {
                    reference: held(reference),
                    current: held(current),
                };
                let histogram = Histogram::of_samples("t", spec, &mut samples)
                    .unwrap()
                    .expect("both samples present");
                assert_eq!(
                    histogram.counts,
                    by_definition(spec, reference, current),
                    "{spec:?}"
                );
            }
        }
    }

    #[test]
    fn an_empty_sample_has_no_histogram() {
        let mut samples = Samples::new(vec![1.0], vec![]);
        let spec = BinSpec {
            bins: 10,
            binning: Binning::Quantile,
        };
        assert!(
            Histogram::of_samples("t", spec, &mut samples)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_non_finite_value_in_either_large_sample_is_an_error_of_the_function() {
        use crate::common::group_states::GroupState;
        let statistic = HistogramStatistic::shared(
            BinSpec {
                bins: 10,
                binning: Binning::Quantile,
            },
            |histogram| Some(histogram.bins() as f64),
        );
        for (bad, in_reference, size) in [
            (f64::NAN, false, 120_000),
            (f64::INFINITY, false, 120_000),
            (f64::NAN, true, 120_000),
            (f64::NEG_INFINITY, true, GUIDED_FROM + 3),
        ] {
            let mut reference = scrambled(size, 1, 119_993, |u| u);
            let mut current = scrambled(150_000, 3, 149_993, |u| u);
            if in_reference {
                reference[size - 7] = bad;
            } else {
                current[77_777] = bad;
            }
            let mut samples = Samples {
                reference: held(&reference),
                current: held(&current),
            };
            let error = samples
                .evaluate("psi", &*statistic)
                .expect_err("non-finite values are refused");
            assert!(error.to_string().contains("psi"), "{error}");
        }
    }
}
