//! `f1_score(prediction, label [, positive_label])`: harmonic mean of precision and recall.

use std::marker::PhantomData;

use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::{AggregateUDF, Documentation};

use crate::common::pairs::PairAggregate;
use crate::evaluation::EVALUATION_SECTION;
use crate::evaluation::binary_outcomes::{BinaryOutcomes, OutcomeMetric, coerce, ratio};

#[derive(Debug)]
struct F1;

impl OutcomeMetric for F1 {
    const NAME: &'static str = "f1_score";
    const SIGNATURE: &'static str = "f1_score(prediction, label [, positive_label])";

    fn score(true_positives: f64, predicted_positives: f64, actual_positives: f64) -> f64 {
        ratio(2.0 * true_positives, predicted_positives + actual_positives)
    }
}

fn documentation() -> Documentation {
    Documentation::builder(
        EVALUATION_SECTION,
        "F1 score 2·tp / (2·tp + fp + fn), the harmonic mean of precision and recall, as sklearn.metrics.f1_score. Binary: positive_label (default 1, or true for booleans; required for text \
         labels) names the positive class, every other value is negative. A zero denominator \
         gives 0, as scikit-learn's zero_division=0. Predictions and labels of different types \
         are compared as text. Rows with a NULL are ignored; no rows give NULL.",
        "f1_score(prediction, label [, positive_label])",
    )
    .with_sql_example(
        "```sql\n\
         > SELECT f1_score(predict('churn', *), churned) FROM holdout;\n\
         > SELECT f1_score(predicted_plan, actual_plan, 'premium') FROM scored;\n\
         ```",
    )
    .with_argument("prediction", "predicted label")
    .with_argument("label", "true label")
    .with_argument("positive_label", "constant: the positive class (default 1 / true)")
    .build()
}

/// The `f1_score` aggregate.
pub fn f1_score_udaf() -> AggregateUDF {
    PairAggregate::<BinaryOutcomes<F1>> {
        name: "f1_score",
        parameters: &["prediction", "label", "positive_label"],
        return_type: DataType::Float64,
        coerce: coerce::<F1>,
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
        assert_eq!(F1::score(3.0, 5.0, 4.0), 6.0 / 9.0);
        assert_eq!(F1::score(0.0, 0.0, 0.0), 0.0);
    }
}
