//! A/B-test statistics: the treatment arm is the rows with `is_treatment = true`.

pub(crate) mod ab_sample_size;
pub(crate) mod chi2_test;
pub(crate) mod welch_ttest;

use datafusion::logical_expr::DocSection;

pub(crate) const AB_SECTION: DocSection = DocSection {
    include: true,
    label: "A/B testing",
    description: Some("Tests comparing a treatment arm with a control arm, and test planning."),
};
