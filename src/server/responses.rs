//! Translating the engine's outcomes and errors into pgwire responses.

use std::sync::Arc;

use datafusion::error::DataFusionError;
use datafusion_postgres::arrow_pg::datatypes::df::encode_dataframe;
use datafusion_postgres::pgwire::api::ClientInfo;
use datafusion_postgres::pgwire::api::portal::Format;
use datafusion_postgres::pgwire::api::results::{Response, Tag};
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use datafusion_postgres::pgwire::types::format::FormatOptions;

use crate::engine::{CommandTag, StatementOutcome};
use crate::error::{SqlError, classify, classify_any};

pub fn command_response(tag: &CommandTag) -> Response {
    let mut wire = Tag::new(&tag.command);
    if let Some(rows) = tag.rows {
        wire = wire.with_rows(rows as usize);
        if tag.command == "INSERT" {
            wire = wire.with_oid(0);
        }
    }
    Response::Execution(wire)
}

pub async fn outcome_response(
    outcome: StatementOutcome,
    format: &Format,
    client: &(dyn ClientInfo + Send + Sync),
) -> PgWireResult<Response> {
    match outcome {
        StatementOutcome::Command(tag) => Ok(command_response(&tag)),
        StatementOutcome::Rows(frame) => {
            let options = Arc::new(FormatOptions::from_client_metadata(client.metadata()));
            Ok(Response::Query(
                encode_dataframe(frame, format, Some(options)).await?,
            ))
        }
    }
}

pub fn error_info(error: &SqlError) -> ErrorInfo {
    ErrorInfo::new(
        "ERROR".to_string(),
        error.code.to_string(),
        error.message.clone(),
    )
}

/// Engine errors become Postgres errors with their SQLSTATE.
pub fn wire_error(error: DataFusionError) -> PgWireError {
    PgWireError::UserError(Box::new(error_info(&classify(&error))))
}

/// Gives a pgwire error a SQLSTATE when it still carries a bare library error.
pub fn classify_wire_error(error: &mut PgWireError) {
    if let PgWireError::ApiError(inner) = error {
        let classified = classify_any(inner.as_ref());
        *error = PgWireError::UserError(Box::new(error_info(&classified)));
    }
}
