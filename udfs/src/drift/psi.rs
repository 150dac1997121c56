//! `psi(value, is_reference [, bins [, binning]])`: Population Stability Index.

use datafusion::logical_expr::AggregateUDF;

use crate::common::histogram::Histogram;
use crate::common::histogram::smoothed;
use crate::drift::histogram_aggregate::{HistogramMeasure, histogram_udaf};

/// `Σ (a_i − e_i) · ln(a_i / e_i)` over the bins, `e` the reference shares and `a` the current
/// shares, each empty bin's share replaced by 1e-4 (no renormalisation, as Evidently).
pub(crate) fn psi_of(histogram: &Histogram) -> Option<f64> {
    Some(
        histogram
            .reference
            .iter()
            .zip(&histogram.current)
            .map(|(&expected, &actual)| {
                let (expected, actual) = (smoothed(expected), smoothed(actual));
                (actual - expected) * (actual / expected).ln()
            })
            .sum(),
    )
}

#[derive(Debug)]
struct Psi;

impl HistogramMeasure for Psi {
    const NAME: &'static str = "psi";
    const TAKES_BINNING: bool = true;
    const DESCRIPTION: &'static str = "Population Stability Index of the current sample (is_reference = false) against the reference sample (is_reference = true): Σ (a − e)·ln(a / e) over bin proportions, an empty bin's proportion replaced by 1e-4 (as Evidently). Bands: < 0.1 stable, 0.1–0.25 moderate shift, > 0.25 significant shift. Worked example: reference 1..10, current [1,1,2,2,3,8,9,10,10,10], 5 bins: the reference quantile edges are 2.8, 4.6, 6.4, 8.2, so the reference shares are 0.2 each and the current shares 0.4, 0.1, 0 (→ 1e-4), 0.1, 0.4; the terms are 0.138629, 0.069315, 1.519420, 0.069315, 0.138629 and PSI = 1.935309.";
    const SQL_EXAMPLE: &'static str = "> SELECT psi(amount, snapshot = 'train') FROM payments WHERE snapshot IN ('train', 'today');\n> SELECT region, psi(amount, is_ref, 20, 'equal_width') FROM t GROUP BY region;";

    fn measure(histogram: &Histogram) -> Option<f64> {
        psi_of(histogram)
    }
}

/// The `psi` aggregate.
pub fn psi_udaf() -> AggregateUDF {
    histogram_udaf::<Psi>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::histogram::{BinSpec, Binning};
    use crate::common::samples::Samples;

    #[test]
    fn documented_example() {
        let mut samples = Samples::new(
            (1..=10).map(f64::from).collect(),
            vec![1.0, 1.0, 2.0, 2.0, 3.0, 8.0, 9.0, 10.0, 10.0, 10.0],
        );
        let spec = BinSpec {
            bins: 5,
            binning: Binning::Quantile,
        };
        let histogram = Histogram::of_samples("psi", spec, &mut samples)
            .unwrap()
            .expect("both samples");
        assert_eq!(histogram.reference, vec![0.2; 5]);
        assert_eq!(histogram.current, vec![0.4, 0.1, 0.0, 0.1, 0.4]);
        let expected =
            0.2 * 2f64.ln() * 2.0 + 0.1 * 2f64.ln() * 2.0 + (1e-4 - 0.2) * (1e-4f64 / 0.2).ln();
        let psi = psi_of(&histogram).expect("defined");
        assert!((psi - expected).abs() < 1e-15);
        assert!((psi - 1.935309).abs() < 1e-6);
    }

    #[test]
    fn identical_samples_have_zero_psi() {
        let mut samples = Samples::new(vec![1.0, 2.0, 3.0, 4.0], vec![4.0, 3.0, 2.0, 1.0]);
        let spec = BinSpec {
            bins: 10,
            binning: Binning::Quantile,
        };
        let histogram = Histogram::of_samples("psi", spec, &mut samples)
            .unwrap()
            .expect("both samples");
        assert_eq!(psi_of(&histogram), Some(0.0));
    }
}
