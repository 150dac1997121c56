//! The pgwire handler set for one Quiver server.

use std::sync::Arc;

use datafusion_postgres::hooks::cursor::CursorStatementHook;
use datafusion_postgres::hooks::set_show::SetShowHook;
use datafusion_postgres::hooks::transactions::TransactionStatementHook;
use datafusion_postgres::pgwire::api::auth::StartupHandler;
use datafusion_postgres::pgwire::api::auth::noop::NoopStartupHandler;
use datafusion_postgres::pgwire::api::cancel::{CancelHandler, DefaultCancelHandler};
use datafusion_postgres::pgwire::api::copy::CopyHandler;
use datafusion_postgres::pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use datafusion_postgres::pgwire::api::{
    ClientInfo, ConnectionManager, ErrorHandler, PgWireServerHandlers,
};
use datafusion_postgres::pgwire::error::PgWireError;
use datafusion_postgres::{DfSessionService, QueryHook};

use super::copy_in::CopyInHandler;
use super::extended_query::{EngineStatementHook, PanicSafeExtended, QuiverParser};
use super::in_flight::InFlight;
use super::responses::classify_wire_error;
use super::simple_query::QuiverSimpleQuery;
use crate::engine::Engine;

pub struct QuiverHandlers {
    simple: Arc<QuiverSimpleQuery>,
    extended: Arc<PanicSafeExtended>,
    copy: Arc<CopyInHandler>,
    startup: Arc<Startup>,
    cancel: Arc<DefaultCancelHandler>,
    pub(super) in_flight: Arc<InFlight>,
}

impl QuiverHandlers {
    pub fn new(engine: Arc<Engine>) -> Self {
        let session_hooks: Vec<Arc<dyn QueryHook>> = vec![
            Arc::new(CursorStatementHook),
            Arc::new(SetShowHook),
            Arc::new(TransactionStatementHook),
        ];
        let mut extended_hooks = session_hooks.clone();
        extended_hooks.push(Arc::new(EngineStatementHook {
            engine: Arc::clone(&engine),
        }));
        let session_context = Arc::new(engine.session_context().clone());
        let in_flight = Arc::new(InFlight::default());
        let connections = Arc::new(ConnectionManager::new());
        Self {
            simple: Arc::new(QuiverSimpleQuery {
                engine: Arc::clone(&engine),
                hooks: session_hooks,
                in_flight: Arc::clone(&in_flight),
            }),
            extended: {
                let inner = Arc::new(DfSessionService::new_with_hooks(
                    session_context,
                    extended_hooks,
                ));
                Arc::new(PanicSafeExtended {
                    parser: Arc::new(QuiverParser {
                        inner: inner.query_parser(),
                    }),
                    inner,
                    engine: Arc::clone(&engine),
                    in_flight: Arc::clone(&in_flight),
                })
            },
            copy: Arc::new(CopyInHandler::new(engine)),
            startup: Arc::new(Startup(Arc::clone(&connections))),
            cancel: Arc::new(DefaultCancelHandler::new(connections)),
            in_flight,
        }
    }
}

/// No authentication yet; registers each connection so Ctrl-C in psql can cancel its query.
pub struct Startup(Arc<ConnectionManager>);

impl NoopStartupHandler for Startup {
    fn connection_manager(&self) -> Option<Arc<ConnectionManager>> {
        Some(Arc::clone(&self.0))
    }
}

/// Gives every error a client will see its SQLSTATE.
pub struct SqlStateErrors;

impl ErrorHandler for SqlStateErrors {
    fn on_error<C>(&self, _client: &C, error: &mut PgWireError)
    where
        C: ClientInfo,
    {
        classify_wire_error(error);
        tracing::debug!("statement failed: {error}");
    }
}

impl PgWireServerHandlers for QuiverHandlers {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        Arc::clone(&self.simple)
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        Arc::clone(&self.extended)
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        Arc::clone(&self.startup)
    }

    fn copy_handler(&self) -> Arc<impl CopyHandler> {
        Arc::clone(&self.copy)
    }

    fn error_handler(&self) -> Arc<impl ErrorHandler> {
        Arc::new(SqlStateErrors)
    }

    fn cancel_handler(&self) -> Arc<impl CancelHandler> {
        Arc::clone(&self.cancel)
    }
}
