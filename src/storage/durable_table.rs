//! A SQL table stored as a Delta Lake table: DataFusion reads it through deltalake's scan and
//! writes to it through [`DurableTable`]'s DML hooks, each of which is one atomic Delta commit.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock, Weak};

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{Column, Constraints};
use datafusion::datasource::TableType;
use datafusion::datasource::sink::{DataSink, DataSinkExec};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::projection::{ProjectionExec, ProjectionExpr};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan};
use deltalake::DeltaTable;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::protocol::SaveMode;
use futures::TryStreamExt;
use url::Url;

use super::dml_exec::{DmlExec, DmlOperation};

/// One table's durable state, shared by its provider and the plans that write to it.
pub struct TableStore {
    name: String,
    uri: Url,
    current: RwLock<Snapshot>,
    /// Serializes this process's commits so each one starts from the snapshot the last produced.
    commit_lock: tokio::sync::Mutex<()>,
    watchers: RwLock<Vec<Weak<dyn TableWatcher>>>,
}

/// Told about each committed change to a table, after the commit (so it sees only durable data).
pub trait TableWatcher: Send + Sync {
    /// Rows were appended (INSERT, COPY).
    fn appended(&self, batches: &[RecordBatch]);
    /// Rows were changed or deleted in place.
    fn rewritten(&self);
}

#[derive(Clone)]
struct Snapshot {
    table: DeltaTable,
    scan: Arc<dyn TableProvider>,
}

impl TableStore {
    pub(super) async fn open(name: String, table: DeltaTable) -> Result<Arc<Self>> {
        let uri = table.table_url().clone();
        let scan = table.table_provider().await?;
        Ok(Arc::new(Self {
            name,
            uri,
            current: RwLock::new(Snapshot { table, scan }),
            commit_lock: tokio::sync::Mutex::new(()),
            watchers: RwLock::new(Vec::new()),
        }))
    }

    /// Registers `watcher` for this table's future commits, for as long as it is alive.
    pub fn watch(&self, watcher: Weak<dyn TableWatcher>) {
        let mut watchers = self.watchers.write().unwrap_or_else(|e| e.into_inner());
        watchers.retain(|w| w.strong_count() > 0);
        watchers.push(watcher);
    }

    fn notify(&self, event: impl Fn(&dyn TableWatcher)) {
        let watchers: Vec<Arc<dyn TableWatcher>> = self
            .watchers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        for watcher in watchers {
            event(watcher.as_ref());
        }
    }

    pub fn uri(&self) -> &Url {
        &self.uri
    }

    fn snapshot(&self) -> Snapshot {
        // A poisoned lock only means a panic happened while swapping two Arcs; the value is intact.
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn delta_table(&self) -> DeltaTable {
        self.snapshot().table
    }

    async fn install(&self, table: DeltaTable) -> Result<()> {
        let scan = table.table_provider().await?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Snapshot { table, scan };
        Ok(())
    }

    /// Appends the batches in one commit; returns the number of rows written.
    pub async fn append(&self, batches: Vec<RecordBatch>) -> Result<u64> {
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        if rows == 0 {
            return Ok(0);
        }
        let _commit = self.commit_lock.lock().await;
        let table = self
            .snapshot()
            .table
            .write(batches.clone())
            .with_save_mode(SaveMode::Append)
            .with_commit_properties(commit_properties())
            .await
            .map_err(delta_error)?;
        self.install(table).await?;
        self.notify(|watcher| watcher.appended(&batches));
        Ok(rows as u64)
    }

    pub(super) async fn run_dml(&self, operation: &DmlOperation) -> Result<u64> {
        let _commit = self.commit_lock.lock().await;
        let table = self.snapshot().table;
        let (table, count) = match operation {
            DmlOperation::Delete { predicate } => {
                let mut builder = table.delete().with_commit_properties(commit_properties());
                if let Some(predicate) = predicate {
                    builder = builder.with_predicate(predicate.clone());
                }
                let (table, metrics) = builder.await.map_err(delta_error)?;
                (table, metrics.num_deleted_rows.unwrap_or(0) as u64)
            }
            DmlOperation::Update {
                assignments,
                predicate,
            } => {
                let mut builder = table.update().with_commit_properties(commit_properties());
                if let Some(predicate) = predicate {
                    builder = builder.with_predicate(predicate.clone());
                }
                for (column, value) in assignments {
                    builder = builder.with_update(Column::new_unqualified(column), value.clone());
                }
                let (table, metrics) = builder.await.map_err(delta_error)?;
                (table, metrics.num_updated_rows as u64)
            }
        };
        self.install(table).await?;
        if count > 0 {
            self.notify(|watcher| watcher.rewritten());
        }
        Ok(count)
    }
}

impl fmt::Debug for TableStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TableStore")
            .field("name", &self.name)
            .field("uri", &self.uri.as_str())
            .finish()
    }
}

fn commit_properties() -> CommitProperties {
    CommitProperties::default().with_create_checkpoint(true)
}

pub(crate) fn delta_error(err: deltalake::DeltaTableError) -> DataFusionError {
    DataFusionError::External(Box::new(err))
}

/// The [`TableProvider`] registered in the catalog for a durable table.
#[derive(Debug)]
pub struct DurableTable {
    store: Arc<TableStore>,
    schema: SchemaRef,
    constraints: Option<Constraints>,
    column_defaults: HashMap<String, Expr>,
}

impl DurableTable {
    pub fn new(store: Arc<TableStore>) -> Self {
        let schema = store.snapshot().scan.schema();
        Self {
            store,
            schema,
            constraints: None,
            column_defaults: HashMap::new(),
        }
    }

    /// Column defaults and constraints given at CREATE TABLE; kept for this process's lifetime.
    pub fn with_definition(
        mut self,
        constraints: Constraints,
        column_defaults: HashMap<String, Expr>,
    ) -> Self {
        self.constraints = Some(constraints);
        self.column_defaults = column_defaults;
        self
    }

    pub fn store(&self) -> &Arc<TableStore> {
        &self.store
    }
}

#[async_trait]
impl TableProvider for DurableTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn constraints(&self) -> Option<&Constraints> {
        self.constraints.as_ref()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn get_column_default(&self, column: &str) -> Option<&Expr> {
        self.column_defaults.get(column)
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let scan = self.store.snapshot().scan;
        // Delta's scan ignores the limit when it reads no columns (`SELECT 1 FROM t LIMIT 1`),
        // while DataFusion drops its own LIMIT once the scan took it: read one column and
        // project it away instead.
        if limit.is_some()
            && projection.is_some_and(Vec::is_empty)
            && !self.schema.fields().is_empty()
        {
            let plan = scan.scan(state, Some(&vec![0]), filters, limit).await?;
            return Ok(Arc::new(ProjectionExec::try_new(
                Vec::<ProjectionExpr>::new(),
                plan,
            )?));
        }
        scan.scan(state, projection, filters, limit).await
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        self.store
            .snapshot()
            .scan
            .supports_filters_pushdown(filters)
    }

    async fn insert_into(
        &self,
        _state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
        insert_op: InsertOp,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if insert_op != InsertOp::Append {
            return Err(DataFusionError::NotImplemented(format!(
                "{insert_op} into durable tables; use INSERT (append), UPDATE or DELETE"
            )));
        }
        let sink = AppendSink {
            store: Arc::clone(&self.store),
            schema: Arc::clone(&self.schema),
        };
        Ok(Arc::new(DataSinkExec::new(input, Arc::new(sink), None)))
    }

    async fn delete_from(
        &self,
        _state: &dyn Session,
        filters: Vec<Expr>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let predicate = conjunction(filters);
        Ok(Arc::new(DmlExec::new(
            Arc::clone(&self.store),
            DmlOperation::Delete { predicate },
        )))
    }

    async fn update(
        &self,
        _state: &dyn Session,
        assignments: Vec<(String, Expr)>,
        filters: Vec<Expr>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let predicate = conjunction(filters);
        Ok(Arc::new(DmlExec::new(
            Arc::clone(&self.store),
            DmlOperation::Update {
                assignments,
                predicate,
            },
        )))
    }

    async fn truncate(&self, _state: &dyn Session) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(DmlExec::new(
            Arc::clone(&self.store),
            DmlOperation::Delete { predicate: None },
        )))
    }
}

fn conjunction(filters: Vec<Expr>) -> Option<Expr> {
    filters.into_iter().reduce(Expr::and)
}

/// Collects an INSERT's rows and appends them in a single commit, so a failed statement leaves
/// no rows behind.
#[derive(Debug)]
struct AppendSink {
    store: Arc<TableStore>,
    schema: SchemaRef,
}

impl DisplayAs for AppendSink {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeltaAppend: {}", self.store.uri)
    }
}

#[async_trait]
impl DataSink for AppendSink {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    async fn write_all(
        &self,
        data: SendableRecordBatchStream,
        _context: &Arc<TaskContext>,
    ) -> Result<u64> {
        let batches: Vec<RecordBatch> = data.try_collect().await?;
        self.store.append(batches).await
    }
}
