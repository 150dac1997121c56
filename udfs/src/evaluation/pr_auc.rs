//! `pr_auc(score, label)`: average precision (area under the precision–recall curve).

use datafusion::logical_expr::AggregateUDF;

use crate::common::samples::Samples;
use crate::evaluation::roc_curve::{RankingMetric, ranking_udaf, roc_points};

#[derive(Debug)]
struct AveragePrecision;

impl RankingMetric for AveragePrecision {
    const NAME: &'static str = "pr_auc";
    const DESCRIPTION: &'static str = "Average precision of the scores for the binary label, as sklearn.metrics.average_precision_score: Σ (R_k − R_{k−1})·P_k over the thresholds, without interpolation. NULL when there is no positive label; 1.0 when every label is positive.";

    /// Σ (R_k − R_{k−1})·P_k over the distinct thresholds, highest first, as
    /// `sklearn.metrics.average_precision_score` (a step function, no interpolation).
    fn metric(samples: &mut Samples) -> Option<f64> {
        let positives = samples.reference.len() as f64;
        if positives == 0.0 {
            return None;
        }
        let mut previous_recall = 0.0;
        let mut sum = 0.0;
        for (tp, fp) in roc_points(samples.reference.values_mut(), samples.current.values_mut()) {
            let recall = tp / positives;
            sum += (recall - previous_recall) * (tp / (tp + fp));
            previous_recall = recall;
        }
        Some(sum)
    }
}

/// The `pr_auc` aggregate.
pub fn pr_auc_udaf() -> AggregateUDF {
    ranking_udaf::<AveragePrecision>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        // sklearn.metrics.average_precision_score([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1])
        // = 0.5·1 + 0.5·(2/3)
        let mut samples = Samples::new(vec![0.9, 0.7], vec![0.8, 0.1]);
        let expected = 0.5 + 0.5 * 2.0 / 3.0;
        let ap = AveragePrecision::metric(&mut samples).expect("has positives");
        assert!((ap - expected).abs() < 1e-15);
    }
}
