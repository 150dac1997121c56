//! Drift statistics of counts that were binned earlier, such as a model's stored training
//! profile: the same formulas as `psi`, `psi_pvalue`, `js_divergence` and `chi2_2samp`, for
//! callers that no longer have the reference sample, only its bin counts.
//!
//! `reference[i]` and `current[i]` count the rows of each sample in bin (or category) `i`.
//! Every function returns `None` when either side has no rows.

use crate::common::histogram::Histogram;
use crate::drift::chi2_2samp::chi2_contingency;
use crate::drift::js_divergence::js_divergence_of;
use crate::drift::psi::psi_of;
use crate::drift::psi_pvalue::pvalue_of;

fn histogram(reference: &[u64], current: &[u64]) -> Option<Histogram> {
    Histogram::from_counts(reference.to_vec(), current.to_vec())
}

/// Population Stability Index of the bin shares, empty bins smoothed to 1e-4 (as `psi`).
pub fn psi(reference: &[u64], current: &[u64]) -> Option<f64> {
    psi_of(&histogram(reference, current)?)
}

/// The p-value of the PSI under "same distribution" (as `psi_pvalue`).
pub fn psi_pvalue(reference: &[u64], current: &[u64]) -> Option<f64> {
    pvalue_of(&histogram(reference, current)?)
}

/// Jensen–Shannon distance (the square root of `js_divergence`; scipy's `jensenshannon`).
pub fn js_distance(reference: &[u64], current: &[u64]) -> Option<f64> {
    js_divergence_of(&histogram(reference, current)?).map(f64::sqrt)
}

/// χ² test of the 2×k table (as `chi2_2samp`): (statistic, p-value, degrees of freedom).
/// Bins empty on both sides are left out, as a category seen by neither sample would be.
pub fn chi2(reference: &[u64], current: &[u64]) -> Option<(f64, f64, u64)> {
    let (reference, current): (Vec<f64>, Vec<f64>) = reference
        .iter()
        .zip(current)
        .filter(|(r, c)| **r + **c > 0)
        .map(|(&r, &c)| (r as f64, c as f64))
        .unzip();
    chi2_contingency(&[reference, current], true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agree_with_the_sample_functions_on_the_documented_psi_example() {
        // psi's documented example: reference 1..10, current [1,1,2,2,3,8,9,10,10,10], 5 bins
        // at edges 2.8, 4.6, 6.4, 8.2 → counts [2,2,2,2,2] and [4,1,0,1,4].
        let value = psi(&[2, 2, 2, 2, 2], &[4, 1, 0, 1, 4]).unwrap();
        assert!((value - 1.935309).abs() < 1e-6, "{value}");
        assert!(psi(&[1, 2], &[0, 0]).is_none());
        assert_eq!(js_distance(&[5, 5], &[5, 5]), Some(0.0));
        let (_, p, dof) = chi2(&[10, 0, 10], &[10, 0, 10]).unwrap();
        assert_eq!((p, dof), (1.0, 1));
    }
}
