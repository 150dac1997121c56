//! One row of a drift report: which test a column gets and what it says.

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::Result;

use super::options::{Method, ReportOptions};
use crate::common::arguments::{is_numeric, is_text};
use crate::common::categories::{Categories, CategoryCounts};
use crate::common::histogram::{BinSpec, Binning, Histogram};
use crate::common::ks_statistic::ks_statistic;
use crate::common::samples::Samples;
use crate::distributions::kolmogorov::ks_2samp_two_sided;
use crate::drift::chi2_2samp::chi2_contingency;
use crate::drift::js_divergence::js_divergence_of;
use crate::drift::kl_divergence::kl_divergence_of;
use crate::drift::psi::psi_of;
use crate::drift::wasserstein::wasserstein_distance;
use crate::error::{invalid_argument, non_finite};

/// Evidently's cut-off between its small-data tests (KS, chi-square) and its distances.
const SMALL_REFERENCE_ROWS: usize = 1000;
/// Numeric columns with at most this many distinct values are compared as categories.
const FEW_DISTINCT_VALUES: usize = 5;
/// Evidently's floor on the reference standard deviation that normalises Wasserstein.
const MIN_NORM: f64 = 0.001;

#[derive(Debug)]
enum Values {
    Numeric(Samples),
    Categorical(CategoryCounts),
}

/// A column's values from both queries, NULLs removed but counted.
#[derive(Debug)]
pub(crate) struct ColumnInput {
    pub name: String,
    values: Values,
    rows: [usize; 2],
    nulls: [usize; 2],
}

/// A row of the report.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ColumnDrift {
    pub column: String,
    pub kind: &'static str,
    pub n_ref: u64,
    pub n_cur: u64,
    pub null_share_ref: Option<f64>,
    pub null_share_cur: Option<f64>,
    pub method: &'static str,
    pub statistic: Option<f64>,
    pub p_value: Option<f64>,
    pub psi: Option<f64>,
    pub threshold: f64,
    pub drifted: bool,
}

fn finite_values(function: &str, column: &str, array: &ArrayRef) -> Result<Vec<f64>> {
    let numbers = cast(array, &DataType::Float64).map_err(|error| {
        invalid_argument(
            function,
            format!("column {column} is not numeric in both queries: {error}"),
        )
    })?;
    let numbers = numbers.as_primitive::<Float64Type>();
    numbers
        .iter()
        .flatten()
        .map(|value| {
            if value.is_finite() {
                Ok(value)
            } else {
                Err(non_finite(&format!("{function} (column {column})"), value))
            }
        })
        .collect()
}

fn category_counts(function: &str, column: &str, arrays: [&ArrayRef; 2]) -> Result<CategoryCounts> {
    let mut counts = CategoryCounts::default();
    for (array, is_reference) in arrays.into_iter().zip([true, false]) {
        let text = cast(array, &DataType::Utf8View).map_err(|error| {
            invalid_argument(
                function,
                format!("column {column} cannot be compared as text: {error}"),
            )
        })?;
        let views = text.as_string_view();
        for row in (0..views.len()).filter(|&row| views.is_valid(row)) {
            counts.add_row(Categories::Views(views), row, usize::from(!is_reference));
        }
    }
    Ok(counts)
}

impl ColumnInput {
    /// `None` for columns that are neither numeric nor categorical (timestamps, lists, ...).
    pub(crate) fn new(
        function: &str,
        name: &str,
        reference: &ArrayRef,
        current: &ArrayRef,
    ) -> Result<Option<Self>> {
        let data_type = reference.data_type();
        let values = if is_numeric(data_type) && !matches!(data_type, DataType::Null) {
            Values::Numeric(Samples::new(
                finite_values(function, name, reference)?,
                finite_values(function, name, current)?,
            ))
        } else if is_text(data_type) || matches!(data_type, DataType::Boolean) {
            Values::Categorical(category_counts(function, name, [reference, current])?)
        } else {
            return Ok(None);
        };
        Ok(Some(Self {
            name: name.to_owned(),
            values,
            rows: [reference.len(), current.len()],
            nulls: [reference.null_count(), current.null_count()],
        }))
    }

    /// Evidently's choice of test, overridden by `method` where it applies to the column.
    pub(crate) fn drift(self, options: &ReportOptions) -> ColumnDrift {
        let kind = match self.values {
            Values::Numeric(_) => "numeric",
            Values::Categorical(_) => "categorical",
        };
        // Numeric columns with few distinct values are compared as categories, except by the
        // tests that need numbers (KS, Wasserstein) when they are asked for.
        let (samples, categories) = match self.values {
            Values::Numeric(samples) if has_few_distinct_values(&samples, FEW_DISTINCT_VALUES) => {
                let categories = as_categories(&samples);
                (Some(samples), Some(categories))
            }
            Values::Numeric(samples) => (Some(samples), None),
            Values::Categorical(counts) => (None, Some(counts)),
        };
        let small = self.rows[0] <= SMALL_REFERENCE_ROWS;
        let default_method = match (categories.is_some(), small) {
            (false, true) => Method::Ks,
            (false, false) => Method::Wasserstein,
            (true, true) => Method::Chi2,
            (true, false) => Method::JensenShannon,
        };
        let method = match options.method {
            Some(Method::Ks | Method::Wasserstein) if samples.is_none() => default_method,
            Some(method) => method,
            None => default_method,
        };
        let threshold = options.threshold.unwrap_or(method.default_threshold());
        let share = |nulls: usize, rows: usize| (rows > 0).then(|| nulls as f64 / rows as f64);
        let (n_ref, n_cur) = (
            (self.rows[0] - self.nulls[0]) as u64,
            (self.rows[1] - self.nulls[1]) as u64,
        );
        let mut row = ColumnDrift {
            column: self.name,
            kind,
            n_ref,
            n_cur,
            null_share_ref: share(self.nulls[0], self.rows[0]),
            null_share_cur: share(self.nulls[1], self.rows[1]),
            method: method.name(),
            statistic: None,
            p_value: None,
            psi: None,
            threshold,
            drifted: false,
        };
        if n_ref == 0 || n_cur == 0 {
            return row;
        }
        let (statistic, p_value, psi) = measure(samples, categories, method, options.bins);
        row.statistic = statistic;
        row.p_value = p_value;
        row.psi = psi;
        row.drifted = match (method.is_test(), p_value, statistic) {
            (true, Some(p), _) => p < threshold,
            (false, _, Some(distance)) => distance >= threshold,
            _ => false,
        };
        row
    }
}

/// Whether the samples hold at most `limit` distinct values, stopping at the first value past
/// the limit (a full sort of every column would dominate the report).
fn has_few_distinct_values(samples: &Samples, limit: usize) -> bool {
    let mut seen: Vec<f64> = Vec::with_capacity(limit + 1);
    for &value in samples
        .reference
        .pieces()
        .chain(samples.current.pieces())
        .flatten()
    {
        if !seen.contains(&value) {
            if seen.len() == limit {
                return false;
            }
            seen.push(value);
        }
    }
    true
}

fn as_categories(samples: &Samples) -> CategoryCounts {
    let mut counts = CategoryCounts::default();
    for (sample, is_reference) in [(&samples.reference, true), (&samples.current, false)] {
        for value in sample.pieces().flatten() {
            // + 0.0 folds −0 into 0, which compare equal as numbers.
            counts.add(&(value + 0.0).to_string(), is_reference, 1);
        }
    }
    counts
}

/// (statistic, p-value, PSI) of one column with both samples non-empty. Histogram methods use
/// the categories when there are any, else reference-quantile bins of the numbers.
fn measure(
    samples: Option<Samples>,
    categories: Option<CategoryCounts>,
    method: Method,
    bins: usize,
) -> (Option<f64>, Option<f64>, Option<f64>) {
    let spec = BinSpec {
        bins,
        binning: Binning::Quantile,
    };
    let (histogram, samples) = match (categories, samples) {
        (Some(counts), samples) => (Histogram::of_categories(&counts), samples),
        // The values were checked as they were read, so binning finds no non-finite one.
        (None, Some(mut samples)) => (
            Histogram::of_samples("drift_report", spec, &mut samples)
                .ok()
                .flatten(),
            Some(samples),
        ),
        (None, None) => (None, None),
    };
    let psi = histogram.as_ref().and_then(psi_of);
    let (statistic, p_value) = match (method, samples) {
        (Method::Ks, Some(mut samples)) => {
            let d = ks_statistic(&mut samples.reference, &mut samples.current);
            let (statistic, p) = ks_2samp_two_sided(
                samples.reference.len() as u64,
                samples.current.len() as u64,
                d,
            );
            (Some(statistic), Some(p))
        }
        (Method::Wasserstein, Some(mut samples)) => {
            let norm = population_std(samples.reference.values_mut()).max(MIN_NORM);
            let distance =
                wasserstein_distance(samples.reference.values_mut(), samples.current.values_mut());
            (distance.map(|distance| distance / norm), None)
        }
        (Method::Chi2, _) => match histogram.as_ref().and_then(chi2_of_counts) {
            Some((statistic, p)) => (Some(statistic), Some(p)),
            None => (None, None),
        },
        (Method::JensenShannon, _) => (
            histogram.as_ref().and_then(js_divergence_of).map(f64::sqrt),
            None,
        ),
        (Method::Psi, _) => (psi, None),
        (Method::Kl, _) => (histogram.as_ref().and_then(kl_divergence_of), None),
        // KS and Wasserstein are only chosen for numeric samples.
        (Method::Ks | Method::Wasserstein, None) => (None, None),
    };
    (statistic, p_value, psi)
}

/// Chi-square of the bin counts, leaving out bins empty in both samples (they carry no
/// information and would make an expected count zero).
fn chi2_of_counts(histogram: &Histogram) -> Option<(f64, f64)> {
    let [reference, current] = &histogram.counts;
    let (reference, current): (Vec<f64>, Vec<f64>) = reference
        .iter()
        .zip(current)
        .filter(|(r, c)| **r + **c > 0)
        .map(|(r, c)| (*r as f64, *c as f64))
        .unzip();
    chi2_contingency(&[reference, current], true).map(|(statistic, p, _)| (statistic, p))
}

fn population_std(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt()
}
