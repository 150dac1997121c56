//! One sample of a two-sample aggregate, as it is held: whole input batches stay in the Arrow
//! buffers they arrived in (shared, not copied) and single rows go to a vector.
//!
//! Values are only held as they arrive; the work waits for evaluation ([`Sample::check`]), where
//! the two samples are looked at on two threads at once. A large sample is then counted into
//! its bucket counts (`order_key`): how many values fall in each of the 262144 buckets of their
//! top 18 key bits. The counts double as the check that every value is finite. Ranks and CDFs
//! can be read off them, so the statistics only look at the values of the few buckets they
//! need ([`Counted::gather`]) instead of sorting or copying whole samples.

use std::borrow::Cow;
use std::mem::size_of;

use datafusion::arrow::buffer::ScalarBuffer;
use datafusion::common::Result;

use super::bucket_passes::{
    ChosenBuckets, Gathered, added, collect, count_and_collect, count_and_gather, count_buckets,
    gather, gather_on_this_thread, in_halves,
};
use super::order_key::{BUCKETS, NON_FINITE_AT_EACH_END};
use super::order_statistics::{GUIDED_FROM, RankBuckets, guide_and_rest, likely_ranges};
use super::{both, large_pair};
use crate::error::non_finite;

/// Shorter pieces are copied rather than held, so that a state does not keep thousands of
/// references to small buffers.
const HOLD_FROM: usize = 1024;
/// The largest share of a sample that `Sample::count_guided` collects while counting it.
const MOST_COLLECTED: f64 = 0.25;
/// Samples at least this large are worth counting into buckets. Smaller ones are cheaper to
/// sort or select in, and the many small groups of a GROUP BY never pay for a table each.
const WORTH_COUNTING: usize = 100_000;

#[derive(Debug, Default, Clone)]
pub(crate) struct Sample {
    parts: Vec<ScalarBuffer<f64>>,
    values: Vec<f64>,
    /// The bucket counts of every value in `parts` and `values`, once taken.
    counts: Option<Vec<u32>>,
}

impl From<Vec<f64>> for Sample {
    fn from(values: Vec<f64>) -> Self {
        Self {
            values,
            ..Self::default()
        }
    }
}

/// How many values lie in the buckets of NaN and ±∞.
fn non_finite_count(counts: &[u32]) -> u64 {
    counts[..NON_FINITE_AT_EACH_END]
        .iter()
        .chain(&counts[BUCKETS - NON_FINITE_AT_EACH_END..])
        .map(|&count| u64::from(count))
        .sum()
}

fn first_non_finite(values: &[f64]) -> Option<f64> {
    values.iter().copied().find(|value| !value.is_finite())
}

impl Sample {
    pub(crate) fn len(&self) -> usize {
        self.values.len() + self.parts.iter().map(ScalarBuffer::len).sum::<usize>()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.values.is_empty() && self.parts.is_empty()
    }

    /// Adds one value the caller has checked to be finite.
    pub(crate) fn push(&mut self, value: f64) {
        self.values.push(value);
        self.counts = None;
    }

    /// Adds a piece of values, held without a copy when it is long. Its values are checked by
    /// [`Sample::check`].
    pub(crate) fn append(&mut self, piece: ScalarBuffer<f64>) {
        if piece.len() >= HOLD_FROM {
            self.parts.push(piece);
        } else {
            self.values.extend_from_slice(&piece);
        }
        self.counts = None;
    }

    /// Checks that every value is finite (a non-finite one is an error of `function`); a large
    /// sample is counted into its buckets on the way, and the counts tell.
    pub(crate) fn check(&mut self, function: &str) -> Result<()> {
        let counted_clean = self.worth_counting() && non_finite_count(&self.counted().counts) == 0;
        if !counted_clean && let Some(bad) = self.pieces().find_map(first_non_finite) {
            return Err(non_finite(function, bad));
        }
        Ok(())
    }

    /// [`Sample::check`], counting a large sample on two threads.
    pub(crate) fn check_on_two_threads(&mut self, function: &str) -> Result<()> {
        if self.counts.is_none() && self.worth_counting() {
            let pieces: Vec<&[f64]> = self.pieces().collect();
            self.counts = Some(in_halves(&pieces, count_buckets, added));
        }
        self.check(function)
    }

    /// Every value, piece by piece.
    pub(crate) fn pieces(&self) -> impl Iterator<Item = &[f64]> {
        self.parts
            .iter()
            .map(|part| &part[..])
            .chain(std::iter::once(&self.values[..]))
    }

    /// Every value in one vector (copying the held pieces into it, once), for statistics that
    /// sort or reorder.
    pub(crate) fn values_mut(&mut self) -> &mut Vec<f64> {
        if !self.parts.is_empty() {
            let mut values = Vec::with_capacity(self.len());
            for part in self.parts.drain(..) {
                values.extend_from_slice(&part);
            }
            values.append(&mut self.values);
            self.values = values;
        }
        &mut self.values
    }

    /// Whether the counted methods pay: the counts are there, or the sample is large (and not
    /// so large that a bucket's `u32` count could overflow).
    pub(crate) fn worth_counting(&self) -> bool {
        self.counts.is_some() || (WORTH_COUNTING..=u32::MAX as usize).contains(&self.len())
    }

    /// The sample with its bucket counts, counting now if they were not taken yet.
    pub(crate) fn counted(&mut self) -> Counted<'_> {
        if self.counts.is_none() {
            let pieces: Vec<&[f64]> = self.pieces().collect();
            self.counts = Some(count_buckets(&pieces));
        }
        Counted {
            pieces: self.pieces().collect(),
            counts: Cow::Borrowed(self.counts.as_deref().unwrap_or_default()),
        }
    }

    /// Counts the sample (on two threads when it is large) and gathers the values of the `chosen`
    /// buckets in the same pass. Its values are checked by [`Sample::check`] afterwards, from the
    /// counts.
    pub(crate) fn count_and_gather(&mut self, chosen: &[usize]) -> Gathered {
        let pieces: Vec<&[f64]> = self.pieces().collect();
        let (counts, gathered) = count_and_gather(&pieces, chosen);
        self.counts = Some(counts);
        gathered
    }

    /// The buckets that hold `ranks` (sorted, within bounds) and their values, counting the
    /// sample on the way (and so checking it: a non-finite value is an error of `function`).
    ///
    /// A large sample is counted in two parts. Its guide (`order_statistics::guide_and_rest`) is
    /// counted first, and its counts tell which buckets likely hold the ranks; the pass that
    /// counts the rest also gathers the values of those buckets, and a pass over the guide alone
    /// gathers its own. Counting and then gathering took two passes over all of the sample.
    /// Where the exact counts put a rank outside the buckets gathered (the guide misled, as it
    /// does where every 16th block differs from the rest), one more pass gathers its bucket.
    pub(crate) fn gather_ranks(
        &mut self,
        function: &str,
        ranks: &[usize],
    ) -> Result<(RankBuckets, Gathered)> {
        let guided = (self.counts.is_none() && self.len() >= GUIDED_FROM)
            .then(|| self.count_guided(ranks))
            .flatten();
        let Some(GuidedCount {
            counts,
            ranges,
            found,
        }) = guided
        else {
            self.check_on_two_threads(function)?;
            let counted = self.counted();
            let located = RankBuckets::locate(&counted.counts, ranks);
            let gathered = counted.gather(&located.buckets);
            return Ok((located, gathered));
        };
        let located = RankBuckets::locate(&counts, ranks);
        let sizes: Vec<usize> = located
            .buckets
            .iter()
            .map(|&bucket| counts[bucket] as usize)
            .collect();
        self.counts = Some(counts);
        self.check(function)?;
        let in_ranges = |bucket: &usize| {
            ranges
                .iter()
                .any(|&(first, last)| (first..=last).contains(bucket))
        };
        let gathered = if located.buckets.iter().all(in_ranges) {
            gather_on_this_thread(&[&found], &located.buckets, Some(&sizes))
        } else {
            self.counted().gather(&located.buckets)
        };
        Ok((located, gathered))
    }

    /// The counts of the sample, the ranges of buckets its guide says hold `ranks`, and their
    /// values (see [`Sample::gather_ranks`]); `None`, having counted only the guide, where the
    /// ranges hold more than [`MOST_COLLECTED`] of the guide: collecting them would copy most of
    /// the sample, where counting first and then gathering the ranks' buckets copies only those.
    fn count_guided(&self, ranks: &[usize]) -> Option<GuidedCount> {
        let pieces: Vec<&[f64]> = self.pieces().collect();
        let (guide, rest) = guide_and_rest(&pieces);
        let guide_counts = count_buckets(&guide);
        let ranges = likely_ranges(&guide_counts, self.len(), ranks);
        let guide_len: usize = guide.iter().map(|block| block.len()).sum();
        let in_ranges: usize = ranges
            .iter()
            .flat_map(|&(first, last)| &guide_counts[first..=last])
            .map(|&count| count as usize)
            .sum();
        if in_ranges as f64 > MOST_COLLECTED * guide_len as f64 {
            return None;
        }
        let chosen = ChosenBuckets::of_key_ranges(&ranges);
        let (rest_counts, found_in_rest) = count_and_collect(&rest, &chosen, 1);
        let found_in_guide = collect(&guide, &chosen, 1);
        let mut found = found_in_rest.into_iter().next().unwrap_or_default();
        found.extend(found_in_guide.into_iter().flatten());
        Some(GuidedCount {
            counts: added(rest_counts, guide_counts),
            ranges,
            found,
        })
    }

    /// The held pieces, then the single values as one more.
    pub(crate) fn into_pieces(self) -> impl Iterator<Item = ScalarBuffer<f64>> {
        let values = (!self.values.is_empty()).then(|| ScalarBuffer::from(self.values));
        self.parts.into_iter().chain(values)
    }

    /// Bytes held, the shared input buffers included.
    pub(crate) fn bytes(&self) -> usize {
        let held: usize = self.parts.iter().map(ScalarBuffer::len).sum();
        (held + self.values.capacity()) * size_of::<f64>()
            + self
                .counts
                .as_ref()
                .map_or(0, |counts| counts.len() * size_of::<u32>())
    }
}

/// What `Sample::count_guided` found: the sample's bucket counts, the ranges of buckets its guide
/// pointed to, and their values.
struct GuidedCount {
    counts: Vec<u32>,
    ranges: Vec<(usize, usize)>,
    found: Vec<f64>,
}

/// A sample's values in the pieces they are held in, with their bucket counts.
pub(crate) struct Counted<'a> {
    pub pieces: Vec<&'a [f64]>,
    pub counts: Cow<'a, [u32]>,
}

impl<'a> Counted<'a> {
    /// A plain slice (at most `u32::MAX` values), counted now.
    pub(crate) fn of_slice(values: &'a [f64]) -> Self {
        Self {
            pieces: vec![values],
            counts: Cow::Owned(count_buckets(&[values])),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.pieces.iter().map(|piece| piece.len()).sum()
    }

    /// The values of `buckets` (ascending, distinct), in one pass over the sample (on two
    /// threads when it is large).
    pub(crate) fn gather(&self, buckets: &[usize]) -> Gathered {
        gather(&self.pieces, buckets, Some(&self.sizes(buckets)))
    }

    /// The same on the calling thread.
    fn gather_on_this_thread(&self, buckets: &[usize]) -> Gathered {
        gather_on_this_thread(&self.pieces, buckets, Some(&self.sizes(buckets)))
    }

    fn sizes(&self, buckets: &[usize]) -> Vec<usize> {
        buckets
            .iter()
            .map(|&bucket| self.counts[bucket] as usize)
            .collect()
    }
}

/// The values of `buckets` in both samples: one pass over each, the two on separate threads when
/// both are large.
pub(crate) fn gather_pair(
    reference: &Counted,
    current: &Counted,
    buckets: &[usize],
) -> (Gathered, Gathered) {
    both(
        large_pair(reference.len(), current.len()),
        || reference.gather_on_this_thread(buckets),
        || current.gather_on_this_thread(buckets),
    )
}

/// Whether two samples are worth counting for a statistic of both: one is large, and neither is
/// too large for `u32` bucket counts.
pub(crate) fn worth_counting_pair(reference: &Sample, current: &Sample) -> bool {
    (reference.worth_counting() || current.worth_counting())
        && reference.len().max(current.len()) <= u32::MAX as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::bucket_passes::PARALLEL_PASS;
    use crate::common::order_key::key_bucket;

    fn buffer(values: Vec<f64>) -> ScalarBuffer<f64> {
        ScalarBuffer::from(values)
    }

    #[test]
    fn large_pieces_are_held_small_ones_copied_and_all_counted() {
        let mut sample = Sample::default();
        sample.append(buffer((0..HOLD_FROM).map(|i| i as f64).collect()));
        sample.append(buffer(vec![-1.0, -2.0]));
        sample.push(0.5);
        assert_eq!((sample.parts.len(), sample.values.len()), (1, 3));
        assert_eq!(sample.len(), HOLD_FROM + 3);
        let counted = sample.counted();
        let total: u64 = counted.counts.iter().map(|&c| u64::from(c)).sum();
        assert_eq!(total, (HOLD_FROM + 3) as u64);
        assert_eq!(counted.counts[key_bucket(-2.0)], 1);
        let gathered = counted.gather(&[key_bucket(-2.0), key_bucket(0.5)]);
        assert_eq!(gathered.of(key_bucket(-2.0)), Some(&[-2.0][..]));
        assert_eq!(gathered.of(key_bucket(1e10)), None);
        let mut values = sample.values_mut().clone();
        values.sort_by(f64::total_cmp);
        assert_eq!(values[..3], [-2.0, -1.0, 0.0]);
    }

    #[test]
    fn a_non_finite_value_is_an_error_counted_or_not() {
        for length in [3, WORTH_COUNTING] {
            for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -f64::NAN] {
                let mut values = vec![1.0; length];
                values[length / 2] = bad;
                let mut sample = Sample::default();
                sample.append(buffer(values));
                let error = sample
                    .check("psi")
                    .expect_err("non-finite values are refused");
                assert!(error.to_string().contains("psi"), "{error}");
            }
        }
        let mut extremes = Sample::default();
        let edge = [f64::MAX, -f64::MAX, f64::MIN_POSITIVE, -0.0];
        let values: Vec<f64> = edge.iter().copied().cycle().take(WORTH_COUNTING).collect();
        extremes.append(buffer(values));
        extremes
            .check("psi")
            .expect("the largest finite values are accepted");
        assert!(extremes.worth_counting());
    }

    #[test]
    fn a_large_sample_is_counted_and_checked_on_two_threads() {
        let values: Vec<f64> = (0..PARALLEL_PASS + 10_001)
            .map(|i| ((i * 7_919) % 100_003) as f64 - 50_000.5)
            .collect();
        let held = |values: &[f64]| {
            let mut sample = Sample::default();
            for piece in values.chunks(70_000) {
                sample.append(buffer(piece.to_vec()));
            }
            sample
        };
        let mut sample = held(&values);
        sample.check_on_two_threads("psi").expect("finite values");
        let expected = Counted::of_slice(&values).counts.into_owned();
        assert_eq!(*sample.counted().counts, expected[..]);
        let mut with_nan = values;
        with_nan[PARALLEL_PASS] = f64::NAN;
        let error = held(&with_nan)
            .check_on_two_threads("psi")
            .expect_err("NaN is refused");
        assert!(error.to_string().contains("psi"), "{error}");
    }

    /// Every value of each bucket, sorted, by brute force.
    fn bucket_values(values: &[f64], buckets: &[usize]) -> Vec<Vec<f64>> {
        buckets
            .iter()
            .map(|&bucket| {
                let mut found: Vec<f64> = values
                    .iter()
                    .copied()
                    .filter(|&value| key_bucket(value) == bucket)
                    .collect();
                found.sort_by(f64::total_cmp);
                found
            })
            .collect()
    }

    #[test]
    fn rank_buckets_are_gathered_while_counting_whether_the_guide_holds_or_misleads() {
        use crate::common::order_statistics::RankBuckets;
        let n = GUIDED_FROM + 200_003;
        let ranks: Vec<usize> = (1..10)
            .flat_map(|k| [(n - 1) * k / 10, (n - 1) * k / 10 + 1])
            .collect();
        let mixed: Vec<f64> = (0..n)
            .map(|i| ((i * 7_919) % n) as f64 * 1e-3 - 7.0)
            .collect();
        // every sixteenth block of 4096 values, the guide's, lies far above the rest
        let misleading: Vec<f64> = (0..n)
            .map(|i| (i % 1000) as f64 + if (i / 4096) % 16 == 0 { 5000.0 } else { 0.0 })
            .collect();
        // one value: the ranks' bucket holds the whole sample, which is counted, then gathered
        let constant = vec![2.5; n];
        for (values, guide_holds) in [(mixed, true), (misleading, false), (constant, true)] {
            let pieces: Vec<&[f64]> = values.chunks(65_536).collect();
            let (guide, _) = guide_and_rest(&pieces);
            let ranges = likely_ranges(&count_buckets(&guide), n, &ranks);
            let counts = count_buckets(&[&values]);
            let located = RankBuckets::locate(&counts, &ranks);
            let held = located.buckets.iter().all(|bucket| {
                ranges
                    .iter()
                    .any(|&(first, last)| (first..=last).contains(bucket))
            });
            assert_eq!(held, guide_holds);

            let mut sample = Sample::default();
            for piece in &pieces {
                sample.append(buffer(piece.to_vec()));
            }
            let (found, mut gathered) = sample.gather_ranks("psi", &ranks).expect("finite");
            assert_eq!(found.buckets, located.buckets);
            assert_eq!(*sample.counted().counts, counts[..]);
            for values in &mut gathered.values {
                values.sort_by(f64::total_cmp);
            }
            assert_eq!(gathered.values, bucket_values(&values, &located.buckets));
        }
    }

    #[test]
    fn a_non_finite_value_in_the_guide_or_the_rest_is_an_error() {
        let n = GUIDED_FROM + 5;
        for at in [0, 5_000, n - 1] {
            let mut values: Vec<f64> = (0..n).map(|i| (i % 1000) as f64).collect();
            values[at] = f64::INFINITY;
            let mut sample = Sample::default();
            sample.append(buffer(values));
            let error = sample
                .gather_ranks("psi", &[0, n / 2])
                .map(|_| ())
                .expect_err("infinity is refused");
            assert!(error.to_string().contains("psi"), "{error}");
        }
    }
}
