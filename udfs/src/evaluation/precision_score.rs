//! `precision_score(prediction, label [, positive_label])`: share of predicted positives that are positive.

use datafusion::logical_expr::AggregateUDF;

use crate::evaluation::binary_outcomes::{OutcomeMetric, outcome_udaf, ratio};

#[derive(Debug)]
struct Precision;

impl OutcomeMetric for Precision {
    const NAME: &'static str = "precision_score";
    const DESCRIPTION: &'static str =
        "Precision tp / (tp + fp), as sklearn.metrics.precision_score.";

    fn score(true_positives: f64, predicted_positives: f64, _actual_positives: f64) -> f64 {
        ratio(true_positives, predicted_positives)
    }
}

/// The `precision_score` aggregate.
pub fn precision_score_udaf() -> AggregateUDF {
    outcome_udaf::<Precision>()
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
