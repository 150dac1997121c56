//! `mae(prediction, label)`: mean absolute error.

use datafusion::logical_expr::AggregateUDF;

use crate::common::pairs::add_states;
use crate::evaluation::regression::{RegressionMetric, regression_udaf};

#[derive(Debug)]
struct MeanAbsoluteError;

impl RegressionMetric for MeanAbsoluteError {
    const NAME: &'static str = "mae";
    const STATE: &'static [&'static str] = &["rows", "absolute_errors"];
    const DESCRIPTION: &'static str = "Mean absolute error mean(|prediction − label|), as \
        sklearn.metrics.mean_absolute_error.";

    fn update(state: &mut [f64], prediction: f64, label: f64) {
        state[0] += 1.0;
        state[1] += (prediction - label).abs();
    }

    fn merge(state: &mut [f64], other: &[f64]) {
        add_states(state, other);
    }

    fn evaluate(state: &[f64]) -> Option<f64> {
        (state[0] > 0.0).then(|| state[1] / state[0])
    }
}

/// The `mae` aggregate.
pub fn mae_udaf() -> AggregateUDF {
    regression_udaf::<MeanAbsoluteError>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluation::regression::fold;

    #[test]
    fn hand_computed() {
        let pairs = [(2.0, 1.0), (0.0, 1.0), (4.0, 1.0), (-2.0, 1.0)];
        assert_eq!(fold::<MeanAbsoluteError>(&pairs), Some(2.0));
    }
}
