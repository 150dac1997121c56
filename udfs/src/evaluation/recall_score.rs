//! `recall_score(prediction, label [, positive_label])`: share of positives that are predicted positive.

use datafusion::logical_expr::AggregateUDF;

use crate::evaluation::binary_outcomes::{OutcomeMetric, outcome_udaf, ratio};

#[derive(Debug)]
struct Recall;

impl OutcomeMetric for Recall {
    const NAME: &'static str = "recall_score";
    const DESCRIPTION: &'static str = "Recall tp / (tp + fn), as sklearn.metrics.recall_score.";

    fn score(true_positives: f64, _predicted_positives: f64, actual_positives: f64) -> f64 {
        ratio(true_positives, actual_positives)
    }
}

/// The `recall_score` aggregate.
pub fn recall_score_udaf() -> AggregateUDF {
    outcome_udaf::<Recall>()
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
