//! `roc_auc(score, label)`: area under the ROC curve.

use datafusion::logical_expr::AggregateUDF;

use crate::common::samples::Samples;
use crate::evaluation::roc_curve::{RankingMetric, ranking_udaf, roc_auc_of};

#[derive(Debug)]
struct RocAuc;

impl RankingMetric for RocAuc {
    const NAME: &'static str = "roc_auc";
    const DESCRIPTION: &'static str = "Area under the ROC curve of the scores for the binary label, as sklearn.metrics.roc_auc_score: tied scores count one half. NULL when only one class is present.";

    fn metric(samples: &mut Samples) -> Option<f64> {
        roc_auc_of(samples)
    }
}

/// The `roc_auc` aggregate.
pub fn roc_auc_udaf() -> AggregateUDF {
    ranking_udaf::<RocAuc>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_and_reversed_rankings() {
        let mut perfect = Samples::new(vec![0.9, 0.8], vec![0.1, 0.2]);
        assert_eq!(RocAuc::metric(&mut perfect), Some(1.0));
        let mut reversed = Samples::new(vec![0.1], vec![0.9]);
        assert_eq!(RocAuc::metric(&mut reversed), Some(0.0));
    }
}
