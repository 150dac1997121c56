//! `rmse(prediction, label)`: root mean squared error.

use datafusion::logical_expr::AggregateUDF;

use crate::common::pairs::add_states;
use crate::evaluation::regression::{RegressionMetric, regression_udaf};

#[derive(Debug)]
struct RootMeanSquaredError;

impl RegressionMetric for RootMeanSquaredError {
    const NAME: &'static str = "rmse";
    const STATE: &'static [&'static str] = &["rows", "squared_errors"];
    const DESCRIPTION: &'static str = "Root mean squared error sqrt(mean((prediction − label)²)), \
        as sqrt(sklearn.metrics.mean_squared_error).";

    fn update(state: &mut [f64], prediction: f64, label: f64) {
        let error = prediction - label;
        state[0] += 1.0;
        state[1] += error * error;
    }

    fn merge(state: &mut [f64], other: &[f64]) {
        add_states(state, other);
    }

    fn evaluate(state: &[f64]) -> Option<f64> {
        (state[0] > 0.0).then(|| (state[1] / state[0]).sqrt())
    }
}

/// The `rmse` aggregate.
pub fn rmse_udaf() -> AggregateUDF {
    regression_udaf::<RootMeanSquaredError>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluation::regression::fold;

    #[test]
    fn hand_computed() {
        // errors 1, −1, 3, −3 → mean square 5
        let pairs = [(2.0, 1.0), (0.0, 1.0), (4.0, 1.0), (-2.0, 1.0)];
        assert_eq!(fold::<RootMeanSquaredError>(&pairs), Some(5f64.sqrt()));
        assert_eq!(fold::<RootMeanSquaredError>(&[]), None);
    }
}
