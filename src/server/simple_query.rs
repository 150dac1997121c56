//! The simple query protocol: SQL text with any number of statements, as psql sends it.

use std::fmt::Debug;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::sql::parser::Statement;
use datafusion_postgres::QueryHook;
use datafusion_postgres::pgwire::api::portal::Format;
use datafusion_postgres::pgwire::api::query::SimpleQueryHandler;
use datafusion_postgres::pgwire::api::results::Response;
use datafusion_postgres::pgwire::api::store::PortalStore;
use datafusion_postgres::pgwire::api::{ClientInfo, ClientPortalStore};
use datafusion_postgres::pgwire::error::{PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::PgWireBackendMessage;
use futures::{FutureExt, Sink};

use super::copy_in::begin_copy_in;
use super::in_flight::InFlight;
use super::notices::with_notices;
use super::responses::{classify_wire_error, error_info, outcome_response};
use crate::engine::{Engine, EngineStatement, copy_from_stdin_target, panic_error};
use crate::error::classify;

pub struct QuiverSimpleQuery {
    pub(super) engine: Arc<Engine>,
    pub(super) hooks: Vec<Arc<dyn QueryHook>>,
    pub(super) in_flight: Arc<InFlight>,
}

impl QuiverSimpleQuery {
    /// Runs one statement. Session statements (SET, SHOW, BEGIN/COMMIT, cursors) go to
    /// datafusion-postgres's hooks; everything else to the engine.
    async fn run_statement<C>(
        &self,
        client: &mut C,
        statement: EngineStatement,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if let EngineStatement::Sql(Statement::Statement(ast)) = &statement {
            let copy_target = copy_from_stdin_target(ast).map_err(super::responses::wire_error)?;
            if let Some(target) = copy_target {
                return begin_copy_in(&self.engine, &*client, target).await;
            }
            for hook in &self.hooks {
                let handled = hook
                    .handle_simple_query(ast, self.engine.session_context(), client)
                    .await;
                if let Some(response) = handled {
                    return response;
                }
            }
        }
        let outcome = with_notices(client, self.engine.execute(statement))
            .await
            .map_err(super::responses::wire_error)?;
        outcome_response(outcome, &Format::UnifiedText, &*client).await
    }
}

#[async_trait]
impl SimpleQueryHandler for QuiverSimpleQuery {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let statements = match self.engine.parse(query) {
            Ok(statements) => statements,
            Err(error) => return Ok(vec![Response::Error(Box::new(error_info(&error)))]),
        };
        if statements.is_empty() {
            return Ok(vec![Response::EmptyQuery]);
        }
        // As PostgreSQL does, statements before a failing one keep their results and the rest
        // of the text is not run.
        let mut responses = Vec::with_capacity(statements.len());
        for statement in statements {
            let _running = self.in_flight.enter();
            let result = AssertUnwindSafe(self.run_statement(client, statement))
                .catch_unwind()
                .await
                .unwrap_or_else(|payload| {
                    Err(super::responses::wire_error(
                        panic_error(payload.as_ref()).into_datafusion(),
                    ))
                });
            match result {
                Ok(response) => responses.push(response),
                Err(mut error) => {
                    classify_wire_error(&mut error);
                    let info = match error {
                        PgWireError::UserError(info) => *info,
                        other => error_info(&classify(
                            &datafusion::error::DataFusionError::External(Box::new(other)),
                        )),
                    };
                    responses.push(Response::Error(Box::new(info)));
                    break;
                }
            }
        }
        Ok(responses)
    }
}
