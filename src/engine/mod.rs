//! The engine: a DataFusion session over a data directory, and the statement front that decides
//! what each statement does. The server, `quiver sql` and library users all come through here.

mod copy;
mod ddl;
mod panic_guard;
mod parse;
pub mod rewrite;
mod time_travel;

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::UInt64Array;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::MemorySchemaProvider;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SessionStateBuilder;
use datafusion::logical_expr::{DdlStatement, LogicalPlan, WriteOp};
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use datafusion::sql::parser::Statement;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::setup_pg_catalog;
use futures::FutureExt;

pub use copy::{
    CopyFormat, CopyInTarget, CopyOptions, copy_from_stdin_target, copy_in_column_count,
    load_delimited,
};
pub use panic_guard::panic_error;

use crate::data_dir::DataDir;
use crate::error::{QuiverError, SqlError};
use crate::features::statement::FeatureViewStatement;
use crate::features::store::FeatureStore;
use crate::ml::Ml;
use crate::ml::statement::{ModelStatement, Piece, split_model_statements};
use crate::storage::{DurableTable, Storage};

/// The catalog every Quiver table lives in; Postgres clients see it as the current database.
pub const CATALOG: &str = "datafusion";
/// The schema unqualified names resolve to, as in PostgreSQL.
pub const DEFAULT_SCHEMA: &str = "public";

/// What a statement produced.
pub enum StatementOutcome {
    /// A result set, produced lazily as the consumer pulls batches.
    Rows(DataFrame),
    /// A command and its Postgres command tag.
    Command(CommandTag),
}

/// A Postgres command tag such as `CREATE TABLE`, `INSERT 0 5` or `DELETE 3`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandTag {
    pub command: String,
    pub rows: Option<u64>,
}

impl CommandTag {
    pub fn new(command: impl Into<String>) -> Self {
        Self {
            command: command.into(),
            rows: None,
        }
    }

    pub fn with_rows(mut self, rows: u64) -> Self {
        self.rows = Some(rows);
        self
    }
}

impl std::fmt::Display for CommandTag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.command.as_str(), self.rows) {
            ("INSERT", Some(rows)) => write!(f, "INSERT 0 {rows}"),
            (command, Some(rows)) => write!(f, "{command} {rows}"),
            (command, None) => write!(f, "{command}"),
        }
    }
}

/// One statement of SQL text: SQL for DataFusion, or one of Quiver's model statements.
#[derive(Debug, Clone)]
pub enum EngineStatement {
    Sql(Statement),
    Model(ModelStatement),
    FeatureView(FeatureViewStatement),
}

impl From<Statement> for EngineStatement {
    fn from(statement: Statement) -> Self {
        Self::Sql(statement)
    }
}

/// A Quiver engine over one data directory. Cheap to share: wrap it in an `Arc`.
pub struct Engine {
    ctx: SessionContext,
    storage: Storage,
    data_dir: DataDir,
    ml: std::sync::OnceLock<Ml>,
    features: std::sync::OnceLock<Arc<FeatureStore>>,
}

impl Engine {
    /// Opens (creating if needed) a data directory and loads its catalog. Fails at once if
    /// another process has the directory open.
    pub async fn open(path: impl AsRef<Path>) -> std::result::Result<Self, QuiverError> {
        let data_dir = DataDir::open(path)?;
        let storage = Storage::new(&data_dir);
        let mut config = SessionConfig::new()
            .with_information_schema(true)
            .with_default_catalog_and_schema(CATALOG, DEFAULT_SCHEMA)
            .with_create_default_catalog_and_schema(true);
        // TIMESTAMPTZ columns hold UTC instants, as in PostgreSQL; without a session zone
        // DataFusion would plan them as zone-less timestamps.
        config.options_mut().execution.time_zone = Some("UTC".to_string());
        let state = crate::features::with_feature_plans(
            SessionStateBuilder::new()
                .with_config(config)
                .with_default_features()
                .with_physical_optimizer_rule(Arc::new(panic_guard::CatchPanics)),
        )
        .build();
        let ctx = SessionContext::new_with_state(state);
        quiver_udfs::register_all(&ctx);
        crate::features::register_functions(&ctx);
        setup_pg_catalog(&ctx, CATALOG, EmptyContextProvider).map_err(|e| *e)?;
        let engine = Self {
            ctx,
            storage,
            data_dir,
            ml: std::sync::OnceLock::new(),
            features: std::sync::OnceLock::new(),
        };
        time_travel::register(&engine.ctx);
        engine.load_catalog().await?;
        let ml = Ml::open(&engine.ctx, &engine.storage, &engine.data_dir)
            .await
            .map_err(|e| QuiverError::DataFusion(e.into_datafusion()))?;
        let _ = engine.ml.set(ml);
        let features = crate::features::open(&engine)
            .await
            .map_err(QuiverError::DataFusion)?;
        let _ = engine.features.set(features);
        Ok(engine)
    }

    async fn load_catalog(&self) -> std::result::Result<(), QuiverError> {
        self.storage.create_schema(DEFAULT_SCHEMA)?;
        let stored = self.storage.load().await?;
        let catalog = self.ctx.catalog(CATALOG).ok_or_else(|| {
            QuiverError::DataDir(format!("the session has no catalog named {CATALOG}"))
        })?;
        for schema in &stored.schemas {
            catalog.register_schema(schema, Arc::new(MemorySchemaProvider::new()))?;
        }
        for table in stored.tables {
            let schema = catalog.schema(&table.schema).ok_or_else(|| {
                QuiverError::DataDir(format!("schema {} vanished while loading", table.schema))
            })?;
            schema.register_table(table.name, Arc::new(DurableTable::new(table.store)))?;
        }
        // Views and external tables may refer to each other; replay them until no more succeed.
        let mut pending = stored.definitions;
        loop {
            let before = pending.len();
            let mut failed = Vec::new();
            for definition in pending {
                let replayed = match parse::parse_statements(&definition.sql) {
                    Ok(statements) => {
                        let mut result = Ok(());
                        for statement in statements {
                            if let Err(e) = self.run_unsaved(statement).await {
                                result = Err(e);
                            }
                        }
                        result
                    }
                    Err(e) => Err(e.into_datafusion()),
                };
                if let Err(e) = replayed {
                    failed.push((definition, e));
                }
            }
            if failed.is_empty() || failed.len() == before {
                for (definition, e) in &failed {
                    tracing::warn!(
                        "could not restore {}.{}: {e}",
                        definition.schema,
                        definition.name
                    );
                }
                break;
            }
            pending = failed
                .into_iter()
                .map(|(definition, _)| definition)
                .collect();
        }
        Ok(())
    }

    /// The DataFusion session, for registering more functions or tables from Rust. Tables
    /// created through it directly (rather than through [`Engine::sql`]) are not durable.
    pub fn session_context(&self) -> &SessionContext {
        &self.ctx
    }

    pub fn data_dir(&self) -> &Path {
        self.data_dir.root()
    }

    /// Splits SQL text into statements, in PostgreSQL's dialect (with DataFusion's own
    /// statements, such as `CREATE EXTERNAL TABLE`, and Quiver's model statements also
    /// accepted).
    pub fn parse(&self, sql: &str) -> std::result::Result<Vec<EngineStatement>, SqlError> {
        let Some(pieces) = split_model_statements(sql)? else {
            return Ok(parse::parse_statements(sql)?
                .into_iter()
                .map(EngineStatement::Sql)
                .collect());
        };
        let mut statements = Vec::new();
        for piece in pieces {
            match piece {
                Piece::Model(model) => statements.push(EngineStatement::Model(model)),
                Piece::FeatureView(view) => statements.push(EngineStatement::FeatureView(view)),
                Piece::Sql(text) => statements.extend(
                    parse::parse_statements(&text)?
                        .into_iter()
                        .map(EngineStatement::Sql),
                ),
            }
        }
        Ok(statements)
    }

    /// The registry and model runtime.
    pub fn ml(&self) -> Result<&Ml> {
        self.ml
            .get()
            .ok_or_else(|| DataFusionError::Internal("the model registry is not open".into()))
    }

    /// The feature store.
    pub fn features(&self) -> Result<&Arc<FeatureStore>> {
        self.features
            .get()
            .ok_or_else(|| DataFusionError::Internal("the feature store is not open".into()))
    }

    /// Plans `query`, which must be a single SELECT (a training or scoring input).
    pub async fn select_frame(&self, query: &str) -> Result<DataFrame> {
        let mut statements = parse::parse_statements(query).map_err(SqlError::into_datafusion)?;
        let is_query = matches!(
            statements.as_slice(),
            [Statement::Statement(s)] if matches!(s.as_ref(), datafusion::sql::sqlparser::ast::Statement::Query(_))
        );
        if !is_query {
            return Err(SqlError::new(
                crate::error::sqlstate::INVALID_PARAMETER_VALUE,
                format!("expected one SELECT query, got: {query}"),
            )
            .into_datafusion());
        }
        let plan = self
            .ctx
            .state()
            .statement_to_plan(statements.remove(0))
            .await?;
        self.ctx.execute_logical_plan(plan).await
    }

    /// Runs every statement in `sql`, in order, stopping at the first error.
    pub async fn sql(&self, sql: &str) -> Result<Vec<StatementOutcome>> {
        let mut outcomes = Vec::new();
        for statement in self.parse(sql).map_err(SqlError::into_datafusion)? {
            outcomes.push(self.execute(statement).await?);
        }
        Ok(outcomes)
    }

    /// Runs `sql` and collects the rows of its last statement.
    pub async fn query(&self, sql: &str) -> Result<Vec<RecordBatch>> {
        match self.sql(sql).await?.pop() {
            Some(StatementOutcome::Rows(frame)) => frame.collect().await,
            _ => Ok(vec![]),
        }
    }

    /// Runs one statement. A panic while it is planned or run becomes an error for it alone.
    pub async fn execute(&self, statement: impl Into<EngineStatement>) -> Result<StatementOutcome> {
        match statement.into() {
            EngineStatement::Sql(statement) => {
                self.guarded(self.execute_unguarded(statement, true)).await
            }
            EngineStatement::Model(statement) => {
                self.guarded(crate::ml::execute::execute(self, statement))
                    .await
            }
            EngineStatement::FeatureView(statement) => {
                self.guarded(async {
                    let tag = self.features()?.execute(self, statement).await?;
                    Ok(StatementOutcome::Command(tag))
                })
                .await
            }
        }
    }

    /// Runs a statement that was already planned (the extended protocol plans at Parse time).
    pub async fn execute_plan(
        &self,
        statement: &Statement,
        plan: LogicalPlan,
    ) -> Result<StatementOutcome> {
        self.guarded(self.run_plan(statement, plan, true)).await
    }

    async fn guarded(
        &self,
        work: impl Future<Output = Result<StatementOutcome>>,
    ) -> Result<StatementOutcome> {
        match AssertUnwindSafe(work).catch_unwind().await {
            Ok(outcome) => outcome,
            Err(payload) => Err(panic_error(payload.as_ref()).into_datafusion()),
        }
    }

    async fn run_unsaved(&self, statement: Statement) -> Result<StatementOutcome> {
        self.execute_unguarded(statement, false).await
    }

    async fn execute_unguarded(
        &self,
        statement: Statement,
        save_definitions: bool,
    ) -> Result<StatementOutcome> {
        if let Some(outcome) = copy::execute_copy(self, &statement).await? {
            return Ok(outcome);
        }
        check_statement(&statement)?;
        let plan = self
            .ctx
            .state()
            .statement_to_plan(statement.clone())
            .await?;
        self.run_plan(&statement, plan, save_definitions).await
    }

    async fn run_plan(
        &self,
        statement: &Statement,
        plan: LogicalPlan,
        save_definitions: bool,
    ) -> Result<StatementOutcome> {
        match plan {
            LogicalPlan::Ddl(ddl) => {
                let tag = ddl::execute(self, statement, ddl, save_definitions).await?;
                Ok(StatementOutcome::Command(tag))
            }
            LogicalPlan::Dml(dml) => {
                let command = match dml.op {
                    WriteOp::Insert(_) | WriteOp::Ctas => "INSERT",
                    WriteOp::Delete => "DELETE",
                    WriteOp::Update => "UPDATE",
                    WriteOp::Truncate => "TRUNCATE TABLE",
                    WriteOp::MergeInto(_) => "MERGE",
                    _ => "OK",
                };
                let frame = self.ctx.execute_logical_plan(LogicalPlan::Dml(dml)).await?;
                let count = affected_rows(&frame.collect().await?)?;
                let tag = CommandTag::new(command);
                Ok(StatementOutcome::Command(if command == "TRUNCATE TABLE" {
                    tag
                } else {
                    tag.with_rows(count)
                }))
            }
            LogicalPlan::Copy(_) => {
                let frame = self.ctx.execute_logical_plan(plan).await?;
                let count = affected_rows(&frame.collect().await?)?;
                Ok(StatementOutcome::Command(
                    CommandTag::new("COPY").with_rows(count),
                ))
            }
            LogicalPlan::Statement(_) => {
                let command = statement_command(statement);
                let frame = self.ctx.execute_logical_plan(plan).await?;
                frame.collect().await?;
                Ok(StatementOutcome::Command(CommandTag::new(command)))
            }
            plan => Ok(StatementOutcome::Rows(
                self.ctx.execute_logical_plan(plan).await?,
            )),
        }
    }

    pub(crate) fn storage(&self) -> &Storage {
        &self.storage
    }
}

/// The `count` a DML plan reports.
fn affected_rows(batches: &[RecordBatch]) -> Result<u64> {
    let mut total = 0;
    for batch in batches {
        let Some(counts) = batch
            .column_by_name("count")
            .and_then(|c| c.as_any().downcast_ref::<UInt64Array>())
        else {
            return Err(DataFusionError::Internal(
                "a data-changing statement returned no row count".into(),
            ));
        };
        total += counts.values().iter().sum::<u64>();
    }
    Ok(total)
}

fn statement_command(statement: &Statement) -> String {
    let text = statement.to_string();
    let mut words = text.split_whitespace();
    let first = words.next().unwrap_or_default().to_ascii_uppercase();
    match first.as_str() {
        "PREPARE" | "EXECUTE" | "DEALLOCATE" | "SET" | "RESET" | "BEGIN" | "COMMIT"
        | "ROLLBACK" => first,
        _ => "OK".to_string(),
    }
}

/// Refuses statements the engine knows it cannot run correctly (see `parse::reject_unsafe_dml`).
pub fn check_statement(statement: &Statement) -> Result<()> {
    parse::reject_unsafe_dml(statement).map_err(SqlError::into_datafusion)
}

/// True when a DDL statement's plan must go through Quiver rather than DataFusion alone.
pub fn is_engine_command(plan: &LogicalPlan) -> bool {
    matches!(
        plan,
        LogicalPlan::Ddl(
            DdlStatement::CreateMemoryTable(_)
                | DdlStatement::DropTable(_)
                | DdlStatement::CreateCatalogSchema(_)
                | DdlStatement::DropCatalogSchema(_)
                | DdlStatement::CreateView(_)
                | DdlStatement::DropView(_)
                | DdlStatement::CreateExternalTable(_)
        ) | LogicalPlan::Dml(_)
            | LogicalPlan::Copy(_)
    )
}
