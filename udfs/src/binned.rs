//! Drift statistics of counts that were binned earlier, such as a model's stored training
//! profile: the same formulas as `psi`, `psi_pvalue`, `js_divergence` and `chi2_2samp`, for
//! callers that no longer have the reference sample, only its bin counts.
//!
//! `reference[i]` and `current[i]` count the rows of each sample in bin (or category) `i`.
//! Every statistic returns `None` when either side has no rows. [`quantile_edges`] and
//! [`bin_counts`] make such counts with `psi`'s own binning.

use crate::common::histogram::{self, Histogram};
use crate::drift::chi2_2samp::chi2_contingency;
use crate::drift::js_divergence::js_divergence_of;
use crate::drift::psi::psi_of;
use crate::drift::psi_pvalue::pvalue_of;

/// The interior edges of `bins` quantile bins of `values` (numpy's linear quantiles, bit for
/// bit; duplicates merged), as `psi` draws them from its reference sample. Reorders `values`.
pub fn quantile_edges(values: &mut [f64], bins: usize) -> Vec<f64> {
    if values.is_empty() {
        return Vec::new();
    }
    histogram::quantile_edges(values, bins)
}

/// How many of `values` fall in each bin `[e_{k-1}, e_k)` of `edges`, the outer bins open.
pub fn bin_counts(edges: &[f64], values: &[f64]) -> Vec<u64> {
    crate::common::bin_counts::bin_counts(edges, values)
}

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
        let mut reference: Vec<f64> = (1..=10).map(f64::from).collect();
        let edges = quantile_edges(&mut reference, 5);
        // numpy.quantile(range(1, 11), [.2, .4, .6, .8])
        assert_eq!(edges, [2.8, 4.6, 6.3999999999999995, 8.2]);
        let current = [1.0, 1.0, 2.0, 2.0, 3.0, 8.0, 9.0, 10.0, 10.0, 10.0];
        assert_eq!(bin_counts(&edges, &current), [4, 1, 0, 1, 4]);
    }
}
