//! `precision_score(prediction, label [, positive_label])`: share of predicted positives that are positive.

use std::marker::PhantomData;

use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::{AggregateUDF, Documentation};

use crate::common::pairs::PairAggregate;
use crate::evaluation::EVALUATION_SECTION;
use crate::evaluation::binary_outcomes::{BinaryOutcomes, OutcomeMetric, coerce, ratio};

#[derive(Debug)]
struct Precision;

impl OutcomeMetric for Precision {
    const NAME: &'static str = "precision_score";
    const SIGNATURE: &'static str = "precision_score(prediction, label [, positive_label])";

    fn score(true_positives: f64, predicted_positives: f64, _actual_positives: f64) -> f64 {
        ratio(true_positives, predicted_positives)
    }
}

fn documentation() -> Documentation {
    Documentation::builder(
        EVALUATION_SECTION,
        "Precision tp / (tp + fp), as sklearn.metrics.precision_score. Binary: positive_label (default 1, or true for booleans; required for text \
         labels) names the positive class, every other value is negative. A zero denominator \
         gives 0, as scikit-learn's zero_division=0. Predictions and labels of different types \
         are compared as text. Rows with a NULL are ignored; no rows give NULL.",
        "precision_score(prediction, label [, positive_label])",
    )
    .with_sql_example(
        "```sql\n\
         > SELECT precision_score(predict('churn', *), churned) FROM holdout;\n\
         > SELECT precision_score(predicted_plan, actual_plan, 'premium') FROM scored;\n\
         ```",
    )
    .with_argument("prediction", "predicted label")
    .with_argument("label", "true label")
    .with_argument("positive_label", "constant: the positive class (default 1 / true)")
    .build()
}

/// The `precision_score` aggregate.
pub fn precision_score_udaf() -> AggregateUDF {
    PairAggregate::<BinaryOutcomes<Precision>> {
        name: "precision_score",
        parameters: &["prediction", "label", "positive_label"],
        return_type: DataType::Float64,
        coerce: coerce::<Precision>,
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
        assert_eq!(Precision::score(3.0, 5.0, 4.0), 0.6);
        assert_eq!(Precision::score(0.0, 0.0, 0.0), 0.0);
    }
}
