//! Table functions that compare every common column of two queries: `drift_report` (a row per
//! column) and `drift_summary` (one row). The queries are passed as strings and planned as SQL on
//! the calling session when the table is scanned, never spliced into other SQL text.

pub(crate) mod column_drift;
pub(crate) mod drift_report;
pub(crate) mod drift_summary;
pub(crate) mod options;

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::compute::concat;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableFunctionArgs, TableProvider};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::datasource::TableType;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::execution::SessionState;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::physical_plan::{ExecutionPlan, collect};

use column_drift::{ColumnDrift, ColumnInput};
use options::ReportOptions;

use crate::error::invalid_argument;

/// What a drift table function was called with.
#[derive(Debug, Clone)]
pub(crate) struct DriftRequest {
    pub reference_query: String,
    pub current_query: String,
    pub options: ReportOptions,
}

impl DriftRequest {
    pub(crate) fn from_arguments(function: &str, args: &TableFunctionArgs) -> Result<Self> {
        let exprs = args.exprs();
        if !(2..=3).contains(&exprs.len()) {
            return plan_err!(
                "{function} takes (reference_query text, current_query text [, options text])"
            );
        }
        let text = |index: usize, name: &str| -> Result<String> {
            match &exprs[index] {
                Expr::Literal(
                    ScalarValue::Utf8(Some(text))
                    | ScalarValue::Utf8View(Some(text))
                    | ScalarValue::LargeUtf8(Some(text)),
                    _,
                ) => Ok(text.clone()),
                other => plan_err!("{function}: {name} must be a text literal, got {other}"),
            }
        };
        let options = match exprs.len() {
            3 => ReportOptions::parse(function, &text(2, "options")?)?,
            _ => ReportOptions::default(),
        };
        Ok(Self {
            reference_query: text(0, "reference_query")?,
            current_query: text(1, "current_query")?,
            options,
        })
    }

    /// Runs both queries and measures drift of every common numeric or categorical column.
    pub(crate) async fn measure(
        &self,
        function: &str,
        session: &dyn Session,
    ) -> Result<Vec<ColumnDrift>> {
        let reference = run_query(function, session, &self.reference_query).await?;
        let current = run_query(function, session, &self.current_query).await?;
        let mut rows = Vec::new();
        for (index, field) in reference.schema.fields().iter().enumerate() {
            let Ok(current_index) = current.schema.index_of(field.name()) else {
                continue;
            };
            let input = ColumnInput::new(
                function,
                field.name(),
                &reference.columns[index],
                &current.columns[current_index],
            )?;
            if let Some(input) = input {
                rows.push(input.drift(&self.options));
            }
        }
        Ok(rows)
    }
}

struct QueryResult {
    schema: SchemaRef,
    columns: Vec<ArrayRef>,
}

async fn run_query(function: &str, session: &dyn Session, sql: &str) -> Result<QueryResult> {
    let Some(state) = session.as_any().downcast_ref::<SessionState>() else {
        return plan_err!("{function} needs a DataFusion SessionState to plan its queries");
    };
    let plan = state.create_logical_plan(sql).await?;
    if matches!(
        plan,
        LogicalPlan::Dml(_)
            | LogicalPlan::Ddl(_)
            | LogicalPlan::Copy(_)
            | LogicalPlan::Statement(_)
    ) {
        return Err(invalid_argument(
            function,
            format!("the queries must be SELECT statements, got: {sql}"),
        ));
    }
    let physical = state.create_physical_plan(&plan).await?;
    let schema = physical.schema();
    let batches: Vec<RecordBatch> = collect(physical, session.task_ctx()).await?;
    let columns = (0..schema.fields().len())
        .map(|index| {
            let parts: Vec<&dyn datafusion::arrow::array::Array> = batches
                .iter()
                .map(|batch| batch.column(index).as_ref())
                .collect();
            if parts.is_empty() {
                Ok(datafusion::arrow::array::new_empty_array(
                    schema.field(index).data_type(),
                ))
            } else {
                Ok(concat(&parts)?)
            }
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(QueryResult { schema, columns })
}

/// A table computed from a [`DriftRequest`] when scanned.
#[derive(Debug)]
pub(crate) struct DriftTable {
    pub function: &'static str,
    pub request: DriftRequest,
    pub schema: SchemaRef,
    pub build: fn(&SchemaRef, Vec<ColumnDrift>) -> Result<RecordBatch>,
}

#[async_trait]
impl TableProvider for DriftTable {
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
        let rows = self.request.measure(self.function, state).await?;
        let batch = (self.build)(&self.schema, rows)?;
        let plan: Arc<dyn ExecutionPlan> = MemorySourceConfig::try_new_exec(
            &[vec![batch]],
            Arc::clone(&self.schema),
            projection.cloned(),
        )?;
        Ok(plan)
    }
}
