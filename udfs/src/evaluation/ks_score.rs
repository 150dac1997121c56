//! `ks_score(score, label)`: Kolmogorov–Smirnov separation of a score, max(TPR − FPR).

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{AggregateUDF, Documentation};

use crate::common::samples::{SampleStatistic, Samples};
use crate::common::two_sample::TwoSampleAggregate;
use crate::evaluation::EVALUATION_SECTION;
use crate::evaluation::roc_curve::{coerce_score_label, ranking, roc_points};

const NAME: &str = "ks_score";
const SIGNATURE: &str = "ks_score(score numeric, label boolean|0/1)";

/// max(TPR − FPR) over the ROC points, including the origin, so never negative.
fn ks_score_of(samples: &mut Samples) -> Option<f64> {
    let (positives, negatives) = (samples.reference.len() as f64, samples.current.len() as f64);
    if positives == 0.0 || negatives == 0.0 {
        return None;
    }
    Some(
        roc_points(&mut samples.reference, &mut samples.current)
            .into_iter()
            .map(|(tp, fp)| tp / positives - fp / negatives)
            .fold(0.0, f64::max),
    )
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    coerce_score_label(NAME, SIGNATURE, arg_types)
}

fn numeric(_args: &AccumulatorArgs) -> Result<Arc<dyn SampleStatistic>> {
    Ok(ranking(ks_score_of))
}

fn documentation() -> Documentation {
    Documentation::builder(
        EVALUATION_SECTION,
        "KS statistic of a binary classifier: the largest gap max(TPR − FPR) between the true- and false-positive rates over all thresholds of sklearn.metrics.roc_curve (including the origin, so at least 0). NULL when only one class is present. Labels are booleans or the numbers 0 and 1 (other values are errors); \
         rows with a NULL score or label are ignored; NaN and infinite scores are errors.",
        "ks_score(score, label)",
    )
    .with_sql_example(
        "```sql\n\
         > SELECT model_version, ks_score(predict_proba('churn', *), churned) FROM holdout GROUP BY 1;\n\
         ```",
    )
    .with_argument("score", "numeric score or probability; higher means more likely positive")
    .with_argument("label", "true label: boolean, or 0/1")
    .build()
}

/// The `ks_score` aggregate.
pub fn ks_score_udaf() -> AggregateUDF {
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
        // scores 0.9 (pos), 0.8 (neg), 0.7 (pos), 0.1 (neg): at 0.7, TPR 1 − FPR 0.5 = 0.5;
        // at 0.9, TPR 0.5 − FPR 0 = 0.5
        let mut samples = Samples {
            reference: vec![0.9, 0.7],
            current: vec![0.8, 0.1],
        };
        assert_eq!(ks_score_of(&mut samples), Some(0.5));
    }
}
