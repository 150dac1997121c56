//! Two-sample drift statistics: the reference sample is the rows with `is_reference = true`.

pub(crate) mod chi2_2samp;
pub(crate) mod histogram_aggregate;
pub(crate) mod js_divergence;
pub(crate) mod kl_divergence;
pub(crate) mod ks_2samp;
pub(crate) mod psi;
pub(crate) mod psi_pvalue;
pub(crate) mod wasserstein;

use datafusion::logical_expr::DocSection;

pub(crate) const DRIFT_SECTION: DocSection = DocSection {
    include: true,
    label: "Drift statistics",
    description: Some("Two-sample statistics comparing a reference sample with a current one."),
};
