//! `ks_score(score, label)`: Kolmogorov–Smirnov separation of a score, max(TPR − FPR).

use datafusion::logical_expr::AggregateUDF;

use crate::common::samples::Samples;
use crate::evaluation::roc_curve::{RankingMetric, ranking_udaf, roc_points};

#[derive(Debug)]
struct KsScore;

impl RankingMetric for KsScore {
    const NAME: &'static str = "ks_score";
    const DESCRIPTION: &'static str = "KS statistic of a binary classifier: the largest gap max(TPR − FPR) between the true- and false-positive rates over all thresholds of sklearn.metrics.roc_curve (including the origin, so at least 0). NULL when only one class is present.";

    /// max(TPR − FPR) over the ROC points, including the origin, so never negative.
    fn metric(samples: &mut Samples) -> Option<f64> {
        let (positives, negatives) = (samples.reference.len() as f64, samples.current.len() as f64);
        if positives == 0.0 || negatives == 0.0 {
            return None;
        }
        Some(
            roc_points(samples.reference.values_mut(), samples.current.values_mut())
                .into_iter()
                .map(|(tp, fp)| tp / positives - fp / negatives)
                .fold(0.0, f64::max),
        )
    }
}

/// The `ks_score` aggregate.
pub fn ks_score_udaf() -> AggregateUDF {
    ranking_udaf::<KsScore>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        // scores 0.9 (pos), 0.8 (neg), 0.7 (pos), 0.1 (neg): at 0.7, TPR 1 − FPR 0.5 = 0.5;
        // at 0.9, TPR 0.5 − FPR 0 = 0.5
        let mut samples = Samples::new(vec![0.9, 0.7], vec![0.8, 0.1]);
        assert_eq!(KsScore::metric(&mut samples), Some(0.5));
    }
}
