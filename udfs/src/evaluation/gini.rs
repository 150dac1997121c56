//! `gini(score, label)`: Gini coefficient, 2·AUC − 1.

use datafusion::logical_expr::AggregateUDF;

use crate::common::samples::Samples;
use crate::evaluation::roc_curve::{RankingMetric, ranking_udaf, roc_auc_of};

#[derive(Debug)]
struct Gini;

impl RankingMetric for Gini {
    const NAME: &'static str = "gini";
    const DESCRIPTION: &'static str = "Gini coefficient (accuracy ratio) of the scores: 2·AUC − 1, with AUC as roc_auc. NULL when only one class is present.";

    fn metric(samples: &mut Samples) -> Option<f64> {
        roc_auc_of(samples).map(|auc| 2.0 * auc - 1.0)
    }
}

/// The `gini` aggregate.
pub fn gini_udaf() -> AggregateUDF {
    ranking_udaf::<Gini>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_two_auc_minus_one() {
        // AUC 0.875 (see roc_curve) → 0.75
        let mut samples = Samples::new(vec![0.5, 0.9], vec![0.5, 0.1]);
        assert_eq!(Gini::metric(&mut samples), Some(0.75));
    }
}
