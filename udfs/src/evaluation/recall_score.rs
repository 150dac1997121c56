//! `recall_score(prediction, label [, positive_label])`: share of positives that are predicted positive.

use std::marker::PhantomData;

use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::{AggregateUDF, Documentation};

use crate::common::pairs::PairAggregate;
use crate::evaluation::EVALUATION_SECTION;
use crate::evaluation::binary_outcomes::{BinaryOutcomes, OutcomeMetric, coerce, ratio};

#[derive(Debug)]
struct Recall;

impl OutcomeMetric for Recall {
    const NAME: &'static str = "recall_score";
    const SIGNATURE: &'static str = "recall_score(prediction, label [, positive_label])";

    fn score(true_positives: f64, _predicted_positives: f64, actual_positives: f64) -> f64 {
        ratio(true_positives, actual_positives)
    }
}

fn documentation() -> Documentation {
    Documentation::builder(
        EVALUATION_SECTION,
        "Recall tp / (tp + fn), as sklearn.metrics.recall_score. Binary: positive_label (default 1, or true for booleans; required for text \
         labels) names the positive class, every other value is negative. A zero denominator \
         gives 0, as scikit-learn's zero_division=0. Predictions and labels of different types \
         are compared as text. Rows with a NULL are ignored; no rows give NULL.",
        "recall_score(prediction, label [, positive_label])",
    )
    .with_sql_example(
        "```sql\n\
         > SELECT recall_score(predict('churn', *), churned) FROM holdout;\n\
         > SELECT recall_score(predicted_plan, actual_plan, 'premium') FROM scored;\n\
         ```",
    )
    .with_argument("prediction", "predicted label")
    .with_argument("label", "true label")
    .with_argument("positive_label", "constant: the positive class (default 1 / true)")
    .build()
}

/// The `recall_score` aggregate.
pub fn recall_score_udaf() -> AggregateUDF {
    PairAggregate::<BinaryOutcomes<Recall>> {
        name: "recall_score",
        parameters: &["prediction", "label", "positive_label"],
        return_type: DataType::Float64,
        coerce: coerce::<Recall>,
        documentation: documentation(),
        kernel: PhantomData,
    }
    .into_udaf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        // 3 true positives, 5 predicted positive, 4 actually positive
        assert_eq!(Recall::score(3.0, 5.0, 4.0), 0.75);
        assert_eq!(Recall::score(0.0, 0.0, 0.0), 0.0);
    }
}
