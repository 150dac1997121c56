//! `psi_pvalue(value, is_reference [, bins [, binning]])`: how surprising an observed PSI is.

use datafusion::logical_expr::AggregateUDF;
use statrs::distribution::{ChiSquared, ContinuousCDF};

use crate::common::histogram::Histogram;
use crate::drift::histogram_aggregate::{HistogramMeasure, histogram_udaf};
use crate::drift::psi::psi_of;

/// Under "same distribution", PSI / (1/n + 1/m) is asymptotically χ² with bins − 1 degrees of
/// freedom (PSI is the symmetrised KL divergence, whose scaled value is a G-test-like statistic).
pub(crate) fn pvalue_of(histogram: &Histogram) -> Option<f64> {
    let psi = psi_of(histogram)?;
    let degrees_of_freedom = histogram.bins().saturating_sub(1);
    if degrees_of_freedom == 0 {
        return Some(1.0);
    }
    let scale = 1.0 / histogram.reference_count as f64 + 1.0 / histogram.current_count as f64;
    let distribution = ChiSquared::new(degrees_of_freedom as f64).ok()?;
    Some(distribution.sf(psi / scale))
}

#[derive(Debug)]
struct PsiPvalue;

impl HistogramMeasure for PsiPvalue {
    const NAME: &'static str = "psi_pvalue";
    const TAKES_BINNING: bool = true;
    const DESCRIPTION: &'static str = "p-value of the observed PSI under the hypothesis that both samples come from the same distribution, from PSI's asymptotic null distribution: PSI / (1/n_ref + 1/n_cur) ~ χ²(bins − 1), with bins the number of bins actually used (after equal quantile edges are merged, or the number of categories). A threshold on this p-value means the same at any sample size, unlike a fixed PSI threshold. One bin gives 1.0. Same binning as psi.";
    const SQL_EXAMPLE: &'static str =
        "> SELECT psi(x, is_ref) AS psi, psi_pvalue(x, is_ref) AS p FROM scores;";

    fn measure(histogram: &Histogram) -> Option<f64> {
        pvalue_of(histogram)
    }
}

/// The `psi_pvalue` aggregate.
pub fn psi_pvalue_udaf() -> AggregateUDF {
    histogram_udaf::<PsiPvalue>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_proportions_give_pvalue_one() {
        let histogram = Histogram::from_counts(vec![5, 5], vec![10, 10]).expect("both samples");
        assert_eq!(pvalue_of(&histogram), Some(1.0));
    }

    #[test]
    fn scales_with_sample_size() {
        // e = [0.4, 0.6], a = [0.6, 0.4]: psi = 0.2·ln 1.5 + 0.2·ln 1.5 = 0.4·ln 1.5
        let histogram = Histogram::from_counts(vec![40, 60], vec![60, 40]).expect("both samples");
        // scipy.stats.chi2.sf(0.4 * log(1.5) / (1/100 + 1/100), 1)
        let expected = 0.004403867694977883;
        let p = pvalue_of(&histogram).expect("defined");
        assert!((p - expected).abs() < 1e-12 * expected, "{p} vs {expected}");
        assert!(p < 0.01);
    }
}
