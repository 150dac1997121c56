//! `js_divergence(value, is_reference [, bins])`: Jensen–Shannon divergence of the bin shares.

use datafusion::logical_expr::AggregateUDF;

use crate::common::histogram::Histogram;
use crate::drift::histogram_aggregate::{HistogramMeasure, histogram_udaf};

/// `½·KL(e‖m) + ½·KL(a‖m)` with `m = (e + a)/2`, natural logarithm; empty bins contribute 0, so no
/// smoothing is needed.
pub(crate) fn js_divergence_of(histogram: &Histogram) -> Option<f64> {
    let half_kl = |p: f64, m: f64| if p > 0.0 { p * (p / m).ln() } else { 0.0 };
    Some(
        histogram
            .reference
            .iter()
            .zip(&histogram.current)
            .map(|(&expected, &actual)| {
                let middle = (expected + actual) / 2.0;
                0.5 * (half_kl(expected, middle) + half_kl(actual, middle))
            })
            .sum::<f64>()
            .max(0.0),
    )
}

#[derive(Debug)]
struct JensenShannon;

impl HistogramMeasure for JensenShannon {
    const NAME: &'static str = "js_divergence";
    const TAKES_BINNING: bool = false;
    const DESCRIPTION: &'static str = "Jensen–Shannon divergence between the reference and current bin proportions, with the natural logarithm (range 0..ln 2). This is the divergence, not the distance: sqrt(js_divergence(...)) equals scipy.spatial.distance.jensenshannon(e, a), the statistic Evidently thresholds at 0.1. Empty bins need no smoothing.";
    const SQL_EXAMPLE: &'static str =
        "> SELECT sqrt(js_divergence(country, dataset = 'train')) AS js_distance FROM visits;";

    fn measure(histogram: &Histogram) -> Option<f64> {
        js_divergence_of(histogram)
    }
}

/// The `js_divergence` aggregate.
pub fn js_divergence_udaf() -> AggregateUDF {
    histogram_udaf::<JensenShannon>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disjoint_supports_reach_ln_2() {
        let histogram = Histogram::from_counts(vec![3, 0], vec![0, 4]).expect("both samples");
        let divergence = js_divergence_of(&histogram).expect("defined");
        assert!((divergence - 2f64.ln()).abs() < 1e-15);
    }
}
