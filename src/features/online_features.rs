//! `online_features(view [, key ...])`: the latest unexpired row of each entity of a feature
//! view, from its in-memory online index (no table scan). With key values (literals or
//! parameters such as `$1`), only that entity's row.
//!
//! The function returns a small plan, `Filter(key = value, ...)` over the index, which
//! DataFusion inlines into the query: a parameter in the filter is then bound like any other,
//! so the statement can be prepared once and executed with each key. The filter reaches the
//! index scan, which answers an equality on every key with one hash lookup.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{Field, SchemaRef};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Column, ScalarValue};
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::{TableType, ViewTable, provider_as_source};
use datafusion::error::Result;
use datafusion::logical_expr::expr::Placeholder;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{
    BinaryExpr, Expr, LogicalPlanBuilder, Operator, TableProviderFilterPushDown,
};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;

use super::store::FeatureStore;
use crate::error::{SqlError, sqlstate};
use crate::ml::table_functions::session_state;

pub const FUNCTION: &str = "online_features";

#[derive(Debug)]
pub struct OnlineFeatures {
    pub store: Arc<FeatureStore>,
}

fn usage() -> datafusion::error::DataFusionError {
    SqlError::new(
        sqlstate::INVALID_PARAMETER_VALUE,
        format!(
            "{FUNCTION} takes a feature view name in quotes and the entity's key value(s): \
             {FUNCTION}('customer_stats', 42)"
        ),
    )
    .into_datafusion()
}

impl TableFunctionImpl for OnlineFeatures {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let [name, keys @ ..] = args.exprs() else {
            return Err(usage());
        };
        let view = match name {
            Expr::Literal(ScalarValue::Utf8(Some(view)) | ScalarValue::Utf8View(Some(view)), _) => {
                view.clone()
            }
            _ => return Err(usage()),
        };
        let index = self.store.get(&view)?;
        let entity = &index.view().entity;
        if !keys.is_empty() && keys.len() != entity.len() {
            return Err(SqlError::new(
                sqlstate::INVALID_PARAMETER_VALUE,
                format!(
                    "feature view {view} is keyed by ({}): give {} key value(s)",
                    entity.join(", "),
                    entity.len()
                ),
            )
            .into_datafusion());
        }
        let schema = Arc::clone(index.schema());
        let mut conditions = Vec::new();
        for (name, key) in entity.iter().zip(keys) {
            let field = schema.field_with_name(name)?;
            let value = match key {
                Expr::Literal(..) => key.clone(),
                // A parameter takes the key column's type, so clients can bind it directly.
                Expr::Placeholder(placeholder) => Expr::Placeholder(Placeholder::new_with_field(
                    placeholder.id.clone(),
                    Some(Arc::new(Field::new(name, field.data_type().clone(), true))),
                )),
                _ => return Err(usage()),
            };
            conditions.push(Expr::BinaryExpr(BinaryExpr::new(
                Box::new(Expr::Column(Column::new(Some(view.as_str()), name))),
                Operator::Eq,
                Box::new(value),
            )));
        }
        let scan = LogicalPlanBuilder::scan(
            view.as_str(),
            provider_as_source(Arc::new(OnlineTable {
                store: Arc::clone(&self.store),
                view: view.clone(),
                entity: entity.clone(),
                schema,
            })),
            None,
        )?;
        let plan = match conjunction(conditions) {
            Some(condition) => scan.filter(condition)?.build()?,
            None => scan.build()?,
        };
        Ok(Arc::new(ViewTable::new(plan, None)))
    }
}

/// The latest unexpired rows of a view, read from its online index when the query runs.
#[derive(Debug)]
struct OnlineTable {
    store: Arc<FeatureStore>,
    view: String,
    entity: Vec<String>,
    schema: SchemaRef,
}

impl OnlineTable {
    /// The key value `filter` gives an entity column, when it is `column = literal`.
    fn key_equality<'a>(&'a self, filter: &'a Expr) -> Option<(&'a str, &'a ScalarValue)> {
        let Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Eq,
            right,
        }) = filter
        else {
            return None;
        };
        let (column, value) = match (left.as_ref(), right.as_ref()) {
            (Expr::Column(c), Expr::Literal(v, _)) | (Expr::Literal(v, _), Expr::Column(c)) => {
                (c, v)
            }
            _ => return None,
        };
        self.entity
            .iter()
            .find(|k| **k == column.name)
            .map(|k| (k.as_str(), value))
    }
}

#[async_trait]
impl TableProvider for OnlineTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        // Inexact: the filter stays above the scan, so a lookup is only ever a shortcut.
        Ok(filters
            .iter()
            .map(|f| match self.key_equality(f) {
                Some(_) => TableProviderFilterPushDown::Inexact,
                None => TableProviderFilterPushDown::Unsupported,
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let mut index = self.store.get(&self.view)?;
        if index.is_stale() {
            let ctx = SessionContext::new_with_state(session_state(FUNCTION, state)?.clone());
            index = self.store.current(&ctx, &self.view).await?;
        }
        let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX);
        let equalities: Vec<(&str, &ScalarValue)> = filters
            .iter()
            .filter_map(|f| self.key_equality(f))
            .collect();
        let key: Option<Vec<ScalarValue>> = self
            .entity
            .iter()
            .map(|k| {
                equalities
                    .iter()
                    .find(|(name, _)| name == k)
                    .map(|(_, v)| (*v).clone())
            })
            .collect();
        let rows = match key {
            Some(key) => index.lookup(&key, now)?.into_iter().collect(),
            None => vec![index.latest_rows(now)?],
        };
        Ok(MemorySourceConfig::try_new_exec(
            &[rows],
            Arc::clone(&self.schema),
            projection.cloned(),
        )?)
    }
}
