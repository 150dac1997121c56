//! `roc_auc(score, label)`: area under the ROC curve.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{AggregateUDF, Documentation};

use crate::common::samples::SampleStatistic;
use crate::common::two_sample::TwoSampleAggregate;
use crate::evaluation::EVALUATION_SECTION;
use crate::evaluation::roc_curve::{coerce_score_label, ranking, roc_auc_of};

const NAME: &str = "roc_auc";
const SIGNATURE: &str = "roc_auc(score numeric, label boolean|0/1)";

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    coerce_score_label(NAME, SIGNATURE, arg_types)
}

fn numeric(_args: &AccumulatorArgs) -> Result<Arc<dyn SampleStatistic>> {
    Ok(ranking(roc_auc_of))
}

fn documentation() -> Documentation {
    Documentation::builder(
        EVALUATION_SECTION,
        "Area under the ROC curve of the scores for the binary label, as sklearn.metrics.roc_auc_score: tied scores count one half. NULL when only one class is present. Labels are booleans or the numbers 0 and 1 (other values are errors); \
         rows with a NULL score or label are ignored; NaN and infinite scores are errors.",
        "roc_auc(score, label)",
    )
    .with_sql_example(
        "```sql\n\
         > SELECT model_version, roc_auc(predict_proba('churn', *), churned) FROM holdout GROUP BY 1;\n\
         ```",
    )
    .with_argument("score", "numeric score or probability; higher means more likely positive")
    .with_argument("label", "true label: boolean, or 0/1")
    .build()
}

/// The `roc_auc` aggregate.
pub fn roc_auc_udaf() -> AggregateUDF {
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
    use crate::common::samples::Samples;

    #[test]
    fn perfect_and_reversed_rankings() {
        let mut perfect = Samples {
            reference: vec![0.9, 0.8],
            current: vec![0.1, 0.2],
        };
        assert_eq!(roc_auc_of(&mut perfect), Some(1.0));
        let mut reversed = Samples {
            reference: vec![0.1],
            current: vec![0.9],
        };
        assert_eq!(roc_auc_of(&mut reversed), Some(0.0));
    }
}
