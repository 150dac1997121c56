//! `f1_score(prediction, label [, positive_label])`: harmonic mean of precision and recall.

use datafusion::logical_expr::AggregateUDF;

use crate::evaluation::binary_outcomes::{OutcomeMetric, outcome_udaf, ratio};

#[derive(Debug)]
struct F1;

impl OutcomeMetric for F1 {
    const NAME: &'static str = "f1_score";
    const DESCRIPTION: &'static str = "F1 score 2·tp / (2·tp + fp + fn), the harmonic mean of precision and recall, as sklearn.metrics.f1_score.";

    fn score(true_positives: f64, predicted_positives: f64, actual_positives: f64) -> f64 {
        ratio(2.0 * true_positives, predicted_positives + actual_positives)
    }
}

/// The `f1_score` aggregate.
pub fn f1_score_udaf() -> AggregateUDF {
    outcome_udaf::<F1>()
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
