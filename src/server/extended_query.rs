//! The extended query protocol (prepared statements, typed parameters, binary results).
//!
//! datafusion-postgres parses, binds and runs SELECTs; [`EngineStatementHook`] routes the
//! statements whose effects the engine owns (DDL, DML, COPY) to it, and [`PanicSafeExtended`]
//! keeps a panic in any of this from taking the connection down.

use std::fmt::Debug;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::common::{DFSchema, ParamValues};
use datafusion::logical_expr::{EmptyRelation, LogicalPlan};
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast;
use datafusion_postgres::hooks::HookClient;
use datafusion_postgres::pgwire::api::portal::Portal;
use datafusion_postgres::pgwire::api::query::ExtendedQueryHandler;
use datafusion_postgres::pgwire::api::results::Response;
use datafusion_postgres::pgwire::api::store::PortalStore;
use datafusion_postgres::pgwire::api::{ClientInfo, ClientPortalStore};
use datafusion_postgres::pgwire::error::{PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::PgWireBackendMessage;
use datafusion_postgres::pgwire::messages::extendedquery::Parse;
use datafusion_postgres::{DfSessionService, QueryHook};
use futures::{FutureExt, Sink};

use super::copy_in::begin_copy_in;
use super::in_flight::InFlight;
use super::notices::with_notices;
use super::responses::{command_response, outcome_response, wire_error};
use crate::engine::{
    Engine, EngineStatement, StatementOutcome, copy_from_stdin_target, is_engine_command,
    panic_error,
};
use crate::error::{SqlError, sqlstate};
use crate::ml::execute::{created_schema, show_models_schema};
use crate::ml::statement::{ModelStatement, Piece, split_model_statements};
use datafusion_postgres::Parser;
use datafusion_postgres::arrow_pg::datatypes::arrow_schema_to_pg_fields;
use datafusion_postgres::pgwire::api::Type;
use datafusion_postgres::pgwire::api::portal::Format;
use datafusion_postgres::pgwire::api::results::FieldInfo;
use datafusion_postgres::pgwire::api::stmt::{QueryParser, StoredStatement};
use datafusion_postgres::pgwire::messages::extendedquery::ParseComplete;
use futures::SinkExt;

pub struct EngineStatementHook {
    pub(super) engine: Arc<Engine>,
}

#[async_trait]
impl QueryHook for EngineStatementHook {
    async fn handle_simple_query(
        &self,
        _statement: &ast::Statement,
        _session_context: &SessionContext,
        _client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        // The simple protocol is served by QuiverSimpleQuery, which calls the engine directly.
        None
    }

    async fn handle_extended_parse_query(
        &self,
        statement: &ast::Statement,
        _session_context: &SessionContext,
        _client: &(dyn ClientInfo + Send + Sync),
    ) -> Option<PgWireResult<LogicalPlan>> {
        if matches!(statement, ast::Statement::Copy { .. }) {
            // DataFusion cannot plan PostgreSQL's COPY; the engine runs it at Execute.
            return Some(Ok(LogicalPlan::EmptyRelation(EmptyRelation {
                produce_one_row: false,
                schema: Arc::new(DFSchema::empty()),
            })));
        }
        let wrapped = Statement::Statement(Box::new(statement.clone()));
        crate::engine::check_statement(&wrapped)
            .err()
            .map(|e| Err(wire_error(e)))
    }

    async fn handle_extended_query(
        &self,
        statement: &ast::Statement,
        logical_plan: &LogicalPlan,
        params: &ParamValues,
        _session_context: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        if let ast::Statement::Copy { .. } = statement {
            return Some(self.copy(statement, client).await);
        }
        if !is_engine_command(logical_plan) {
            return None;
        }
        let plan = match logical_plan.clone().replace_params_with_values(params) {
            Ok(plan) => plan,
            Err(e) => return Some(Err(wire_error(e))),
        };
        let wrapped = Statement::Statement(Box::new(statement.clone()));
        Some(match self.engine.execute_plan(&wrapped, plan).await {
            Ok(StatementOutcome::Command(tag)) => Ok(command_response(&tag)),
            Ok(StatementOutcome::Rows(_)) => Ok(Response::EmptyQuery),
            Err(e) => Err(wire_error(e)),
        })
    }
}

impl EngineStatementHook {
    async fn copy(
        &self,
        statement: &ast::Statement,
        client: &mut dyn HookClient,
    ) -> PgWireResult<Response> {
        if let Some(target) = copy_from_stdin_target(statement).map_err(wire_error)? {
            return begin_copy_in(&self.engine, &*client, target).await;
        }
        let wrapped = Statement::Statement(Box::new(statement.clone()));
        match self.engine.execute(wrapped).await.map_err(wire_error)? {
            StatementOutcome::Command(tag) => Ok(command_response(&tag)),
            StatementOutcome::Rows(_) => Ok(Response::EmptyQuery),
        }
    }
}

/// The statement a prepared statement holds: its text, and for SQL its AST and plan. Quiver's
/// model statements have no DataFusion plan; they are kept as text and run by the engine.
type PreparedStatement = (String, Option<(ast::Statement, LogicalPlan)>);

/// datafusion-postgres's parser, with Quiver's model statements recognised first.
pub struct QuiverParser {
    pub(super) inner: Arc<Parser>,
}

/// The Quiver statement (model or feature view) `text` holds, when it is one.
fn quiver_statement(text: &str) -> PgWireResult<Option<EngineStatement>> {
    match split_model_statements(text).map_err(|e| wire_error(e.into_datafusion()))? {
        None => Ok(None),
        Some(mut pieces) => match (pieces.pop(), pieces.is_empty()) {
            (Some(Piece::Model(statement)), true) => Ok(Some(EngineStatement::Model(statement))),
            (Some(Piece::FeatureView(statement)), true) => {
                Ok(Some(EngineStatement::FeatureView(statement)))
            }
            _ => Err(wire_error(
                SqlError::new(
                    sqlstate::SYNTAX_ERROR,
                    "a prepared statement holds one statement; send model statements on their own",
                )
                .into_datafusion(),
            )),
        },
    }
}

#[async_trait]
impl QueryParser for QuiverParser {
    type Statement = PreparedStatement;

    async fn parse_sql<C>(
        &self,
        client: &C,
        sql: &str,
        types: &[Option<Type>],
    ) -> PgWireResult<Option<Self::Statement>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        if quiver_statement(sql)?.is_some() {
            return Ok(Some((sql.to_string(), None)));
        }
        let rewritten =
            crate::engine::rewrite::rewrite(sql).map_err(|e| wire_error(e.into_datafusion()))?;
        self.inner
            .parse_sql(client, rewritten.as_deref().unwrap_or(sql), types)
            .await
    }

    fn get_parameter_types(&self, statement: &Self::Statement) -> PgWireResult<Vec<Type>> {
        self.inner.get_parameter_types(statement)
    }

    fn get_result_schema(
        &self,
        statement: &Self::Statement,
        column_format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        if statement.1.is_some() {
            return self.inner.get_result_schema(statement, column_format);
        }
        let schema = match quiver_statement(&statement.0)? {
            Some(EngineStatement::Model(ModelStatement::Create { .. })) => created_schema(),
            Some(EngineStatement::Model(ModelStatement::Show)) => show_models_schema(),
            _ => return Ok(vec![]),
        };
        arrow_schema_to_pg_fields(&schema, column_format.unwrap_or(&Format::UnifiedText), None)
    }
}

/// datafusion-postgres's extended-protocol service, with Quiver's statements recognised,
/// and each message's work guarded against panics and counted as in flight.
pub struct PanicSafeExtended {
    pub(super) inner: Arc<DfSessionService>,
    pub(super) parser: Arc<QuiverParser>,
    pub(super) engine: Arc<Engine>,
    pub(super) in_flight: Arc<InFlight>,
}

async fn guarded<T>(work: impl Future<Output = PgWireResult<T>>) -> PgWireResult<T> {
    AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .unwrap_or_else(|payload| Err(wire_error(panic_error(payload.as_ref()).into_datafusion())))
}

#[async_trait]
impl ExtendedQueryHandler for PanicSafeExtended {
    type Statement = PreparedStatement;
    type QueryParser = QuiverParser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        Arc::clone(&self.parser)
    }

    async fn on_parse<C>(&self, client: &mut C, message: Parse) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let _running = self.in_flight.enter();
        guarded(async {
            let name = message.name.clone().unwrap_or_default();
            match StoredStatement::parse(client, &message, self.query_parser()).await? {
                Some(statement) => client.portal_store().put_statement(Arc::new(statement)),
                None => client.portal_store().put_empty_statement(&name),
            }
            client
                .send(PgWireBackendMessage::ParseComplete(ParseComplete::new()))
                .await?;
            Ok(())
        })
        .await
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Self::Statement>,
        max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let _running = self.in_flight.enter();
        let (text, plan) = &portal.statement.statement;
        if plan.is_none()
            && let Some(statement) = quiver_statement(text)?
        {
            return guarded(async {
                let outcome = with_notices(client, self.engine.execute(statement))
                    .await
                    .map_err(wire_error)?;
                outcome_response(outcome, &portal.result_column_format, &*client).await
            })
            .await;
        }
        guarded(self.inner.do_query(client, portal, max_rows)).await
    }
}
