//! The feature store: point-in-time joins (`ASOF JOIN`) and the functions built on them.

pub mod asof;

use std::sync::Arc;

use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::SessionContext;

/// Teaches a session state Quiver's ASOF joins: the analyzer rule and the planner.
pub fn with_asof_joins(builder: SessionStateBuilder) -> SessionStateBuilder {
    builder
        .with_analyzer_rule(Arc::new(asof::logical::AsofJoinRule))
        .with_query_planner(Arc::new(asof::exec::QuiverQueryPlanner))
}

/// Registers the functions the feature store adds to SQL.
pub fn register_functions(ctx: &SessionContext) {
    ctx.register_udf(asof::logical::AsofMatchMarker::udf());
}
