//! Quiver's SQL functions for any DataFusion `SessionContext`: two-sample drift statistics,
//! model-evaluation metrics and A/B-test statistics, exact against scipy and scikit-learn.
//!
//! ```
//! let ctx = datafusion::prelude::SessionContext::new();
//! quiver_udfs::register_all(&ctx);
//! ```
//!
//! Two-sample functions are aggregates over the union of both samples, told apart by a boolean
//! second argument: `psi(value, is_reference)`. Every aggregate works with `GROUP BY` and merges
//! partial states, so it runs in parallel across partitions: a partial state refers to the
//! values a partition holds rather than copying them.

pub(crate) mod ab;
pub mod binned;
pub(crate) mod common;
pub(crate) mod distributions;
pub(crate) mod drift;
pub mod error;
pub(crate) mod evaluation;
pub(crate) mod report;

use std::sync::Arc;

use datafusion::catalog::TableFunctionImpl;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF};
use datafusion::prelude::SessionContext;

pub use error::UdfError;
pub use report::drift_report::schema as drift_report_schema;

/// Every scalar function this crate provides.
pub fn scalar_functions() -> Vec<ScalarUDF> {
    vec![ab::ab_sample_size::ab_sample_size_udf()]
}

/// Every aggregate function this crate provides.
pub fn aggregate_functions() -> Vec<AggregateUDF> {
    vec![
        drift::psi::psi_udaf(),
        drift::psi_pvalue::psi_pvalue_udaf(),
        drift::ks_2samp::ks_2samp_udaf(),
        drift::wasserstein::wasserstein_udaf(),
        drift::js_divergence::js_divergence_udaf(),
        drift::kl_divergence::kl_divergence_udaf(),
        drift::chi2_2samp::chi2_2samp_udaf(),
        evaluation::roc_auc::roc_auc_udaf(),
        evaluation::pr_auc::pr_auc_udaf(),
        evaluation::ks_score::ks_score_udaf(),
        evaluation::gini::gini_udaf(),
        evaluation::log_loss::log_loss_udaf(),
        evaluation::accuracy::accuracy_udaf(),
        evaluation::precision_score::precision_score_udaf(),
        evaluation::recall_score::recall_score_udaf(),
        evaluation::f1_score::f1_score_udaf(),
        evaluation::confusion_matrix::confusion_matrix_udaf(),
        evaluation::rmse::rmse_udaf(),
        evaluation::mae::mae_udaf(),
        evaluation::r2_score::r2_score_udaf(),
        ab::welch_ttest::welch_ttest_udaf(),
        ab::chi2_test::chi2_test_udaf(),
    ]
}

/// Every table function this crate provides, by name.
pub fn table_functions() -> Vec<(&'static str, Arc<dyn TableFunctionImpl>)> {
    vec![
        ("drift_report", Arc::new(report::drift_report::DriftReport)),
        (
            "drift_summary",
            Arc::new(report::drift_summary::DriftSummary),
        ),
    ]
}

/// Registers every function of this crate on `ctx`.
pub fn register_all(ctx: &SessionContext) {
    for (name, function) in table_functions() {
        ctx.register_udtf(name, function);
    }
    for function in scalar_functions() {
        ctx.register_udf(function);
    }
    for function in aggregate_functions() {
        ctx.register_udaf(function);
    }
}
