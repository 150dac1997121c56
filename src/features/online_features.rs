//! `online_features(view, key [, key2 ...])`: the entity's latest unexpired row of a feature
//! view, from the view's in-memory online index (no table scan).

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::datasource::TableType;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::error::Result;
use datafusion::logical_expr::Expr;
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
        let values: Vec<ScalarValue> = args
            .exprs()
            .iter()
            .map(|expr| match expr {
                Expr::Literal(value, _) => Ok(value.clone()),
                _ => Err(usage()),
            })
            .collect::<Result<_>>()?;
        let [
            ScalarValue::Utf8(Some(view)) | ScalarValue::Utf8View(Some(view)),
            key @ ..,
        ] = values.as_slice()
        else {
            return Err(usage());
        };
        let index = self.store.get(view)?;
        Ok(Arc::new(OnlineLookup {
            store: Arc::clone(&self.store),
            view: view.clone(),
            key: key.to_vec(),
            schema: Arc::clone(index.schema()),
        }))
    }
}

/// One lookup, run when the query runs.
#[derive(Debug)]
struct OnlineLookup {
    store: Arc<FeatureStore>,
    view: String,
    key: Vec<ScalarValue>,
    schema: SchemaRef,
}

#[async_trait]
impl TableProvider for OnlineLookup {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let index = if self.store.get(&self.view)?.is_stale() {
            let ctx = SessionContext::new_with_state(session_state(FUNCTION, state)?.clone());
            self.store.current(&ctx, &self.view).await?
        } else {
            self.store.get(&self.view)?
        };
        let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX);
        let rows: Vec<_> = index.lookup(&self.key, now)?.into_iter().collect();
        Ok(MemorySourceConfig::try_new_exec(
            &[rows],
            Arc::clone(&self.schema),
            projection.cloned(),
        )?)
    }
}
