//! `r2_score(prediction, label)`: coefficient of determination.

use datafusion::logical_expr::AggregateUDF;

use crate::common::pairs::{moments, moments_merge, moments_update};
use crate::evaluation::regression::{RegressionMetric, regression_udaf};

#[derive(Debug)]
struct CoefficientOfDetermination;

impl RegressionMetric for CoefficientOfDetermination {
    const NAME: &'static str = "r2_score";
    const STATE: &'static [&'static str] = &[
        "rows",
        "label_shift",
        "label_deviations",
        "label_squared_deviations",
        "squared_errors",
    ];
    const DESCRIPTION: &'static str = "Coefficient of determination 1 − Σ(label − prediction)² / \
        Σ(label − mean(label))², as sklearn.metrics.r2_score: a constant label gives 1.0 when \
        predicted exactly and 0.0 otherwise; fewer than two rows give NULL. The label variance is \
        accumulated around a value of the data, so large offsets do not cancel.";

    fn update(state: &mut [f64], prediction: f64, label: f64) {
        moments_update(state, 0, label);
        let error = prediction - label;
        state[4] += error * error;
    }

    fn merge(state: &mut [f64], other: &[f64]) {
        moments_merge(state, other, 0);
        state[4] += other[4];
    }

    fn evaluate(state: &[f64]) -> Option<f64> {
        let (rows, _, _, total) = moments(state, 0);
        let residual = state[4];
        if rows < 2.0 {
            // scikit-learn: R² is not well-defined with fewer than two samples.
            None
        } else if total == 0.0 {
            // scikit-learn's force_finite: a constant label scores 1 if predicted exactly.
            Some(if residual == 0.0 { 1.0 } else { 0.0 })
        } else {
            Some(1.0 - residual / total)
        }
    }
}

/// The `r2_score` aggregate.
pub fn r2_score_udaf() -> AggregateUDF {
    regression_udaf::<CoefficientOfDetermination>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluation::regression::fold;

    #[test]
    fn hand_computed() {
        // labels 1, 2, 3, 4 (Σ(y − ȳ)² = 5), predictions off by 1 twice: 1 − 2/5
        let pairs = [(2.0, 1.0), (2.0, 2.0), (3.0, 3.0), (3.0, 4.0)];
        let fold = fold::<CoefficientOfDetermination>;
        assert_eq!(fold(&pairs), Some(1.0 - 2.0 / 5.0));
        assert_eq!(fold(&[(1.0, 1.0)]), None);
        assert_eq!(fold(&[(1.0, 1.0), (1.0, 1.0)]), Some(1.0));
        assert_eq!(fold(&[(2.0, 1.0), (1.0, 1.0)]), Some(0.0));
    }
}
