//! Time travel on durable tables: `table_history('t')` lists a table's versions, and
//! `table_at('t', 3)` / `table_at('t', '2026-11-22T10:00:00Z')` reads it as of a version or time.
//!
//! DataFusion calls table functions synchronously while planning, but reading a Delta log is
//! asynchronous; the read runs to completion on a short-lived thread of its own, which works
//! whatever runtime (or none) the caller is on.

use std::any::Any;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray, TimestampMillisecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{
    CatalogProviderList, MemTable, TableFunctionArgs, TableFunctionImpl, TableProvider,
};
use datafusion::common::TableReference;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use datafusion::prelude::SessionContext;
use datafusion::scalar::ScalarValue;
use deltalake::DeltaTableBuilder;
use deltalake::kernel::Action;
use deltalake::logstore::get_actions;

use super::{CATALOG, DEFAULT_SCHEMA, panic_error};
use crate::error::{SqlError, sqlstate};
use crate::storage::{DurableTable, TableStore};

pub(super) fn register(ctx: &SessionContext) {
    let catalogs = ctx.state().catalog_list().clone();
    ctx.register_udtf(
        "table_history",
        Arc::new(TableHistory {
            catalogs: Arc::clone(&catalogs),
        }),
    );
    ctx.register_udtf("table_at", Arc::new(TableAt { catalogs }));
}

/// Runs `work` to completion on a fresh thread with its own single-threaded runtime.
fn run_detached<T: Send + 'static>(
    work: impl Future<Output = Result<T>> + Send + 'static,
) -> Result<T> {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(DataFusionError::IoError)?
            .block_on(work)
    })
    .join()
    .map_err(|payload| panic_error(payload.as_ref()).into_datafusion())?
}

fn string_argument(function: &str, args: &[Expr], position: usize) -> Result<String> {
    match args.get(position) {
        Some(Expr::Literal(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::Utf8View(Some(s))
            | ScalarValue::LargeUtf8(Some(s)),
            _,
        )) => Ok(s.clone()),
        _ => Err(usage(function)),
    }
}

fn usage(function: &str) -> DataFusionError {
    let signature = match function {
        "table_history" => "table_history('table_name')",
        _ => "table_at('table_name', version) or table_at('table_name', 'RFC 3339 timestamp')",
    };
    SqlError::new(
        sqlstate::UNDEFINED_FUNCTION,
        format!("{function} expects literal arguments: {signature}"),
    )
    .into_datafusion()
}

/// Finds the durable table a name refers to.
async fn durable_store(
    catalogs: Arc<dyn CatalogProviderList>,
    name: String,
) -> Result<Arc<TableStore>> {
    let reference = TableReference::from(name.as_str()).resolve(CATALOG, DEFAULT_SCHEMA);
    let missing = || {
        SqlError::new(
            sqlstate::UNDEFINED_TABLE,
            format!("table \"{name}\" does not exist"),
        )
        .into_datafusion()
    };
    let schema = catalogs
        .catalog(&reference.catalog)
        .and_then(|catalog| catalog.schema(&reference.schema))
        .ok_or_else(missing)?;
    let provider = schema.table(&reference.table).await?.ok_or_else(missing)?;
    match (provider.as_ref() as &dyn Any).downcast_ref::<DurableTable>() {
        Some(table) => Ok(Arc::clone(table.store())),
        None => Err(SqlError::new(
            sqlstate::FEATURE_NOT_SUPPORTED,
            format!("\"{name}\" is not a durable table, so it has no history"),
        )
        .into_datafusion()),
    }
}

#[derive(Debug)]
struct TableHistory {
    catalogs: Arc<dyn CatalogProviderList>,
}

impl TableFunctionImpl for TableHistory {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let name = string_argument("table_history", args.exprs(), 0)?;
        if args.exprs().len() != 1 {
            return Err(usage("table_history"));
        }
        let catalogs = Arc::clone(&self.catalogs);
        let batch = run_detached(async move {
            let store = durable_store(catalogs, name).await?;
            history_batch(&store).await
        })?;
        Ok(Arc::new(MemTable::try_new(
            batch.schema(),
            vec![vec![batch]],
        )?))
    }
}

/// One row per version still in the log, newest first.
async fn history_batch(store: &TableStore) -> Result<RecordBatch> {
    let table = store.delta_table();
    let log_store = table.log_store();
    let latest = table.version().unwrap_or(0);
    let mut versions = Vec::new();
    let mut timestamps = Vec::new();
    let mut operations = Vec::new();
    let mut parameters = Vec::new();
    let mut metrics = Vec::new();
    for version in (0..=latest).rev() {
        let Some(bytes) = log_store
            .read_commit_entry(version)
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?
        else {
            continue;
        };
        let actions =
            get_actions(version, &bytes).map_err(|e| DataFusionError::External(Box::new(e)))?;
        let info = actions.into_iter().find_map(|action| match action {
            Action::CommitInfo(info) => Some(info),
            _ => None,
        });
        versions.push(version as i64);
        timestamps.push(info.as_ref().and_then(|i| i.timestamp));
        operations.push(info.as_ref().and_then(|i| i.operation.clone()));
        parameters.push(
            info.as_ref()
                .and_then(|i| i.operation_parameters.as_ref())
                .map(|p| serde_json::to_string(p).unwrap_or_default()),
        );
        metrics.push(
            info.as_ref()
                .and_then(|i| i.info.get("operationMetrics"))
                .map(|m| m.to_string()),
        );
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("version", DataType::Int64, false),
        Field::new(
            "committed_at",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            true,
        ),
        Field::new("operation", DataType::Utf8, true),
        Field::new("parameters", DataType::Utf8, true),
        Field::new("metrics", DataType::Utf8, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(versions)),
        Arc::new(TimestampMillisecondArray::from(timestamps).with_timezone("UTC")),
        Arc::new(StringArray::from(operations)),
        Arc::new(StringArray::from(parameters)),
        Arc::new(StringArray::from(metrics)),
    ];
    Ok(RecordBatch::try_new(schema, columns)?)
}

#[derive(Debug)]
struct TableAt {
    catalogs: Arc<dyn CatalogProviderList>,
}

enum AsOf {
    Version(u64),
    Time(DateTime<Utc>),
}

impl TableFunctionImpl for TableAt {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        let name = string_argument("table_at", exprs, 0)?;
        if exprs.len() != 2 {
            return Err(usage("table_at"));
        }
        let as_of = match &exprs[1] {
            Expr::Literal(ScalarValue::Int64(Some(v)), _) if *v >= 0 => AsOf::Version(*v as u64),
            Expr::Literal(ScalarValue::Int32(Some(v)), _) if *v >= 0 => AsOf::Version(*v as u64),
            Expr::Literal(ScalarValue::Utf8(Some(text)) | ScalarValue::Utf8View(Some(text)), _) => {
                AsOf::Time(parse_time(text)?)
            }
            _ => return Err(usage("table_at")),
        };
        let catalogs = Arc::clone(&self.catalogs);
        run_detached(async move {
            let store = durable_store(catalogs, name).await?;
            let builder = DeltaTableBuilder::from_url(store.uri().clone())
                .map_err(|e| DataFusionError::External(Box::new(e)))?;
            let latest = store.delta_table().version().unwrap_or(0);
            let builder = match as_of {
                AsOf::Version(version) if version > latest => {
                    return Err(SqlError::new(
                        sqlstate::INVALID_PARAMETER_VALUE,
                        format!("version {version} does not exist yet; the latest is {latest}"),
                    )
                    .into_datafusion());
                }
                AsOf::Version(version) => builder.with_version(version),
                AsOf::Time(time) => builder.with_timestamp(time),
            };
            let table = builder.load().await.map_err(|e| {
                SqlError::new(
                    sqlstate::INVALID_PARAMETER_VALUE,
                    format!("cannot read that version: {e}"),
                )
                .into_datafusion()
            })?;
            table.table_provider().await
        })
    }
}

fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .map(|naive| naive.and_utc())
        .map_err(|_| {
            SqlError::new(
                sqlstate::INVALID_TEXT_REPRESENTATION,
                format!(
                    "cannot read \"{text}\" as a time; use RFC 3339 such as 2026-11-22T10:00:00Z \
                     or 'YYYY-MM-DD HH:MM:SS' (UTC)"
                ),
            )
            .into_datafusion()
        })
}
