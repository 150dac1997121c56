//! The ROC curve of scores against binary labels, shared by the ranking metrics.
//!
//! Ranking aggregates reuse the two-sample state: positives (label 1/true) are the flagged
//! sample and negatives the other, so `roc_auc(score, label)` merges across partitions exactly
//! like `ks_2samp(value, is_reference)`.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};

use crate::common::arguments::{binary_label, check_arity, coerce_argument, float};
use crate::common::samples::{SampleStatistic, Samples};

/// Cumulative (true positives, false positives) at each distinct score, highest score first, as
/// `sklearn.metrics.roc_curve` with `drop_intermediate=False` (tied scores form one point).
pub(crate) fn roc_points(positives: &mut [f64], negatives: &mut [f64]) -> Vec<(f64, f64)> {
    positives.sort_unstable_by(|a, b| b.total_cmp(a));
    negatives.sort_unstable_by(|a, b| b.total_cmp(a));
    let (mut i, mut j) = (0usize, 0usize);
    let mut points = Vec::new();
    while i < positives.len() || j < negatives.len() {
        let threshold = match (positives.get(i), negatives.get(j)) {
            (Some(&p), Some(&n)) => p.max(n),
            (Some(&p), None) => p,
            (None, Some(&n)) => n,
            (None, None) => break,
        };
        while i < positives.len() && positives[i] >= threshold {
            i += 1;
        }
        while j < negatives.len() && negatives[j] >= threshold {
            j += 1;
        }
        points.push((i as f64, j as f64));
    }
    points
}

/// Area under the ROC curve by the trapezoidal rule (ties count one half), `None` without both
/// classes.
pub(crate) fn roc_auc_of(samples: &mut Samples) -> Option<f64> {
    let (positives, negatives) = (samples.reference.len() as f64, samples.current.len() as f64);
    if positives == 0.0 || negatives == 0.0 {
        return None;
    }
    let mut area = 0.0;
    let mut previous = (0.0, 0.0);
    for (tp, fp) in roc_points(&mut samples.reference, &mut samples.current) {
        area += (fp - previous.1) * (tp + previous.0) / 2.0;
        previous = (tp, fp);
    }
    Some(area / (positives * negatives))
}

/// Coerces `(score numeric, label boolean|0/1)`.
pub(crate) fn coerce_score_label(
    function: &str,
    signature: &str,
    arg_types: &[DataType],
) -> Result<Vec<DataType>> {
    check_arity(function, signature, arg_types, 2..=2)?;
    Ok(vec![
        coerce_argument(function, signature, arg_types, 0, float)?,
        coerce_argument(function, signature, arg_types, 1, binary_label)?,
    ])
}

/// A ranking metric over (positives, negatives).
#[derive(Debug)]
pub(crate) struct RankingMetric(pub fn(&mut Samples) -> Option<f64>);

impl SampleStatistic for RankingMetric {
    fn evaluate(&self, samples: &mut Samples) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64((self.0)(samples)))
    }
}

pub(crate) fn ranking(metric: fn(&mut Samples) -> Option<f64>) -> Arc<dyn SampleStatistic> {
    Arc::new(RankingMetric(metric))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_between_classes_count_half() {
        // sklearn.metrics.roc_auc_score([1, 0, 1, 0], [0.5, 0.5, 0.9, 0.1]) == 0.875
        let mut samples = Samples {
            reference: vec![0.5, 0.9],
            current: vec![0.5, 0.1],
        };
        assert_eq!(roc_auc_of(&mut samples), Some(0.875));
    }

    #[test]
    fn one_class_has_no_auc() {
        let mut samples = Samples {
            reference: vec![0.5],
            current: vec![],
        };
        assert_eq!(roc_auc_of(&mut samples), None);
    }
}
