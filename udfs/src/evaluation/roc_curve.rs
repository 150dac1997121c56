//! The ROC curve of scores against binary labels, shared by the ranking metrics.
//!
//! Ranking aggregates reuse the two-sample state: positives (label 1/true) are the flagged
//! sample and negatives the other, so `roc_auc(score, label)` merges across partitions exactly
//! like `ks_2samp(value, is_reference)`.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{AggregateUDF, Documentation};

use crate::common::arguments::coerce_value_and_flag;
use crate::common::samples::{SampleStatistic, Samples};
use crate::common::two_sample::TwoSampleAggregate;
use crate::evaluation::EVALUATION_SECTION;

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
    for (tp, fp) in roc_points(samples.reference.values_mut(), samples.current.values_mut()) {
        area += (fp - previous.1) * (tp + previous.0) / 2.0;
        previous = (tp, fp);
    }
    Some(area / (positives * negatives))
}

/// A metric of scores against binary labels, computed from (positives, negatives).
pub(crate) trait RankingMetric: 'static {
    const NAME: &'static str;
    /// What it computes, which scikit-learn function it equals, and when it is NULL.
    const DESCRIPTION: &'static str;
    fn metric(samples: &mut Samples) -> Option<f64>;
}

#[derive(Debug)]
struct Ranking(fn(&mut Samples) -> Option<f64>);

impl SampleStatistic for Ranking {
    fn evaluate(&self, _function: &str, samples: &mut Samples) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64((self.0)(samples)))
    }
}

fn coerce<M: RankingMetric>(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    let signature = format!("{}(score numeric, label boolean|0/1)", M::NAME);
    coerce_value_and_flag(M::NAME, &signature, arg_types)
}

fn numeric<M: RankingMetric>(_args: &AccumulatorArgs) -> Result<Arc<dyn SampleStatistic>> {
    Ok(Arc::new(Ranking(M::metric)))
}

/// The aggregate UDF of a ranking metric.
pub(crate) fn ranking_udaf<M: RankingMetric>() -> AggregateUDF {
    let documentation = Documentation::builder(
        EVALUATION_SECTION,
        format!(
            "{} Labels are booleans or the numbers 0 and 1 (other values are errors); rows with \
             a NULL score or label are ignored; NaN and infinite scores are errors.",
            M::DESCRIPTION
        ),
        format!("{}(score, label)", M::NAME),
    )
    .with_sql_example(format!(
        "```sql\n> SELECT model_version, {}(score, churned) FROM holdout GROUP BY 1;\n```",
        M::NAME
    ))
    .with_argument(
        "score",
        "numeric score or probability; higher means more likely positive",
    )
    .with_argument("label", "true label: boolean, or 0/1")
    .build();
    TwoSampleAggregate {
        name: M::NAME,
        parameters: &["score", "label"],
        return_type: DataType::Float64,
        coerce: coerce::<M>,
        numeric: Some(numeric::<M>),
        categorical: None,
        documentation,
    }
    .into_udaf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_between_classes_count_half() {
        // sklearn.metrics.roc_auc_score([1, 0, 1, 0], [0.5, 0.5, 0.9, 0.1]) == 0.875
        let mut samples = Samples::new(vec![0.5, 0.9], vec![0.5, 0.1]);
        assert_eq!(roc_auc_of(&mut samples), Some(0.875));
    }

    #[test]
    fn one_class_has_no_auc() {
        let mut samples = Samples::new(vec![0.5], vec![]);
        assert_eq!(roc_auc_of(&mut samples), None);
    }
}
