//! `kl_divergence(value, is_reference [, bins])`: Kullback–Leibler divergence of the bin shares.

use datafusion::logical_expr::AggregateUDF;

use crate::common::histogram::Histogram;
use crate::common::histogram::smoothed;
use crate::drift::histogram_aggregate::{HistogramMeasure, histogram_udaf};

/// KL(reference ‖ current) of the smoothed shares, renormalised to sum to one: the same number as
/// `scipy.stats.entropy(e, a)` on the smoothed shares (the direction Evidently uses).
pub(crate) fn kl_divergence_of(histogram: &Histogram) -> Option<f64> {
    let expected: Vec<f64> = histogram.reference.iter().copied().map(smoothed).collect();
    let actual: Vec<f64> = histogram.current.iter().copied().map(smoothed).collect();
    let (expected_total, actual_total) = (expected.iter().sum::<f64>(), actual.iter().sum::<f64>());
    Some(
        expected
            .iter()
            .zip(&actual)
            .map(|(&e, &a)| {
                let (e, a) = (e / expected_total, a / actual_total);
                e * (e / a).ln()
            })
            .sum::<f64>()
            .max(0.0),
    )
}

#[derive(Debug)]
struct KullbackLeibler;

impl HistogramMeasure for KullbackLeibler {
    const NAME: &'static str = "kl_divergence";
    const TAKES_BINNING: bool = false;
    const DESCRIPTION: &'static str = "Kullback–Leibler divergence KL(reference ‖ current) = Σ e·ln(e / a) of the bin proportions, natural logarithm. Empty bins are smoothed to 1e-4 and both distributions renormalised, so the value equals scipy.stats.entropy(e, a) on the smoothed shares (the direction Evidently uses).";
    const SQL_EXAMPLE: &'static str =
        "> SELECT kl_divergence(latency_ms, day = DATE '2026-11-01', 20) FROM requests;";

    fn measure(histogram: &Histogram) -> Option<f64> {
        kl_divergence_of(histogram)
    }
}

/// The `kl_divergence` aggregate.
pub fn kl_divergence_udaf() -> AggregateUDF {
    histogram_udaf::<KullbackLeibler>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_two_bins() {
        let histogram = Histogram::from_counts(vec![1, 1], vec![1, 3]).expect("both samples");
        let expected = 0.5 * (0.5f64 / 0.25).ln() + 0.5 * (0.5f64 / 0.75).ln();
        let divergence = kl_divergence_of(&histogram).expect("defined");
        assert!((divergence - expected).abs() < 1e-15);
    }
}
