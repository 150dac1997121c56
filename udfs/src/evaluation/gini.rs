//! `gini(score, label)`: Gini coefficient, 2·AUC − 1.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{AggregateUDF, Documentation};

use crate::common::samples::{SampleStatistic, Samples};
use crate::common::two_sample::TwoSampleAggregate;
use crate::evaluation::EVALUATION_SECTION;
use crate::evaluation::roc_curve::{coerce_score_label, ranking, roc_auc_of};

const NAME: &str = "gini";
const SIGNATURE: &str = "gini(score numeric, label boolean|0/1)";

fn gini_of(samples: &mut Samples) -> Option<f64> {
    roc_auc_of(samples).map(|auc| 2.0 * auc - 1.0)
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    coerce_score_label(NAME, SIGNATURE, arg_types)
}

fn numeric(_args: &AccumulatorArgs) -> Result<Arc<dyn SampleStatistic>> {
    Ok(ranking(gini_of))
}

fn documentation() -> Documentation {
    Documentation::builder(
        EVALUATION_SECTION,
        "Gini coefficient (accuracy ratio) of the scores: 2·AUC − 1, with AUC as roc_auc. NULL when only one class is present. Labels are booleans or the numbers 0 and 1 (other values are errors); \
         rows with a NULL score or label are ignored; NaN and infinite scores are errors.",
        "gini(score, label)",
    )
    .with_sql_example(
        "```sql\n\
         > SELECT model_version, gini(predict_proba('churn', *), churned) FROM holdout GROUP BY 1;\n\
         ```",
    )
    .with_argument("score", "numeric score or probability; higher means more likely positive")
    .with_argument("label", "true label: boolean, or 0/1")
    .build()
}

/// The `gini` aggregate.
pub fn gini_udaf() -> AggregateUDF {
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
    fn is_two_auc_minus_one() {
        // AUC 0.875 (see roc_curve) → 0.75
        let mut samples = Samples {
            reference: vec![0.5, 0.9],
            current: vec![0.5, 0.1],
        };
        assert_eq!(gini_of(&mut samples), Some(0.75));
    }
}
