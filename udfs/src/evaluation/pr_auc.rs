//! `pr_auc(score, label)`: average precision (area under the precision–recall curve).

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{AggregateUDF, Documentation};

use crate::common::samples::{SampleStatistic, Samples};
use crate::common::two_sample::TwoSampleAggregate;
use crate::evaluation::EVALUATION_SECTION;
use crate::evaluation::roc_curve::{coerce_score_label, ranking, roc_points};

const NAME: &str = "pr_auc";
const SIGNATURE: &str = "pr_auc(score numeric, label boolean|0/1)";

/// Σ (R_k − R_{k−1})·P_k over the distinct thresholds, highest first, as
/// `sklearn.metrics.average_precision_score` (a step function, no interpolation).
fn average_precision_of(samples: &mut Samples) -> Option<f64> {
    let positives = samples.reference.len() as f64;
    if positives == 0.0 {
        return None;
    }
    let mut previous_recall = 0.0;
    let mut sum = 0.0;
    for (tp, fp) in roc_points(&mut samples.reference, &mut samples.current) {
        let recall = tp / positives;
        sum += (recall - previous_recall) * (tp / (tp + fp));
        previous_recall = recall;
    }
    Some(sum)
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    coerce_score_label(NAME, SIGNATURE, arg_types)
}

fn numeric(_args: &AccumulatorArgs) -> Result<Arc<dyn SampleStatistic>> {
    Ok(ranking(average_precision_of))
}

fn documentation() -> Documentation {
    Documentation::builder(
        EVALUATION_SECTION,
        "Average precision of the scores for the binary label, as sklearn.metrics.average_precision_score: Σ (R_k − R_{k−1})·P_k over the thresholds, without interpolation. NULL when there is no positive label; 1.0 when every label is positive. Labels are booleans or the numbers 0 and 1 (other values are errors); \
         rows with a NULL score or label are ignored; NaN and infinite scores are errors.",
        "pr_auc(score, label)",
    )
    .with_sql_example(
        "```sql\n\
         > SELECT model_version, pr_auc(predict_proba('churn', *), churned) FROM holdout GROUP BY 1;\n\
         ```",
    )
    .with_argument("score", "numeric score or probability; higher means more likely positive")
    .with_argument("label", "true label: boolean, or 0/1")
    .build()
}

/// The `pr_auc` aggregate.
pub fn pr_auc_udaf() -> AggregateUDF {
    TwoSampleAggregate {
        name: NAME,
        parameters: &["score", "label"],
        return_type: DataType::Float64,
        coerce,
        numeric: Some(numeric),
        categorical: None,
        documentation: documentation(),
    }
    .into_udaf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        // sklearn.metrics.average_precision_score([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1])
        // = 0.5·1 + 0.5·(2/3)
        let mut samples = Samples {
            reference: vec![0.9, 0.7],
            current: vec![0.8, 0.1],
        };
        let expected = 0.5 + 0.5 * 2.0 / 3.0;
        let ap = average_precision_of(&mut samples).expect("has positives");
        assert!((ap - expected).abs() < 1e-15);
    }
}
