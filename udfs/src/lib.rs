//! Quiver's stateless SQL functions (drift statistics, evaluation metrics, A/B statistics,
//! feature-window helpers) for any DataFusion `SessionContext`.
//!
//! ```
//! let ctx = datafusion::prelude::SessionContext::new();
//! quiver_udfs::register_all(&ctx);
//! ```

use datafusion::logical_expr::{AggregateUDF, ScalarUDF};
use datafusion::prelude::SessionContext;

/// Every scalar function this crate provides.
pub fn scalar_functions() -> Vec<ScalarUDF> {
    Vec::new()
}

/// Every aggregate function this crate provides.
pub fn aggregate_functions() -> Vec<AggregateUDF> {
    Vec::new()
}

/// Registers every function of this crate on `ctx`.
pub fn register_all(ctx: &SessionContext) {
    for function in scalar_functions() {
        ctx.register_udf(function);
    }
    for function in aggregate_functions() {
        ctx.register_udaf(function);
    }
}
