//! The feature store: feature views (durable tables with an entity, a timestamp and an online
//! index), point-in-time joins (`ASOF JOIN`, `features_at_time`), time-window aggregates
//! (`window_features`) and online lookups (`online_features`).

pub mod asof;
pub mod at_time;
pub mod online;
pub mod online_features;
pub mod statement;
pub mod store;
pub mod system_tables;
pub mod time_order;
pub mod view;
pub mod window;

use std::sync::Arc;

use datafusion::catalog::Session;
use datafusion::error::Result;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{DefaultPhysicalPlanner, PhysicalPlanner};
use datafusion::prelude::SessionContext;

use crate::engine::Engine;
use crate::ml::ML_SCHEMA;
use store::FeatureStore;
use system_tables::{FeatureSystemTable, FeatureTable};

/// Teaches a session state the feature store's plan nodes: the ASOF analyzer rule and the
/// planner that runs ASOF joins and window aggregates.
pub fn with_feature_plans(builder: SessionStateBuilder) -> SessionStateBuilder {
    builder
        .with_analyzer_rule(Arc::new(asof::logical::AsofJoinRule))
        .with_query_planner(Arc::new(FeaturePlanner))
}

/// DataFusion's physical planner, taught the feature store's plan nodes.
#[derive(Debug)]
struct FeaturePlanner;

#[async_trait::async_trait]
impl QueryPlanner for FeaturePlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session: &dyn Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        DefaultPhysicalPlanner::with_extension_planners(vec![
            Arc::new(asof::exec::AsofPlanner),
            Arc::new(window::exec::WindowPlanner),
        ])
        .create_physical_plan(logical_plan, session)
        .await
    }
}

/// Registers the functions the feature store adds to SQL that need no stored state.
pub fn register_functions(ctx: &SessionContext) {
    ctx.register_udf(asof::logical::AsofMatchMarker::udf());
}

/// Opens the feature store of `engine`'s data directory and registers its tables and functions.
pub async fn open(engine: &Engine) -> Result<Arc<FeatureStore>> {
    let store = Arc::new(FeatureStore::open(engine).await?);
    let ctx = engine.session_context();
    if let Some(ml) = ctx
        .catalog(crate::engine::CATALOG)
        .and_then(|c| c.schema(ML_SCHEMA))
    {
        for (name, table) in [
            ("feature_views", FeatureTable::Views),
            ("feature_freshness", FeatureTable::Freshness),
        ] {
            ml.deregister_table(name)?;
            ml.register_table(
                name.to_string(),
                Arc::new(FeatureSystemTable {
                    store: Arc::clone(&store),
                    table,
                }),
            )?;
        }
    }
    ctx.register_udtf(
        "features_at_time",
        Arc::new(at_time::FeaturesAtTime {
            store: Arc::clone(&store),
        }),
    );
    ctx.register_udtf(window::FUNCTION, Arc::new(window::WindowFeatures));
    ctx.register_udtf(
        online_features::FUNCTION,
        Arc::new(online_features::OnlineFeatures {
            store: Arc::clone(&store),
        }),
    );
    Ok(store)
}
