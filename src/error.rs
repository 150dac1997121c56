//! Errors and their PostgreSQL SQLSTATE codes.
//!
//! Quiver's own failures are raised as [`SqlError`]s that already carry a SQLSTATE. DataFusion's
//! errors are classified by [`classify`]: structurally where DataFusion gives a typed error, and by
//! message only where DataFusion reports a condition as plain text (plan errors such as "table
//! not found"), which is the one place those spellings are known.

use std::error::Error as StdError;

use datafusion::arrow::error::ArrowError;
use datafusion::common::SchemaError;
use datafusion::error::DataFusionError;
use datafusion::sql::sqlparser::parser::ParserError;

/// SQLSTATE codes Quiver reports (see PostgreSQL's errcodes appendix).
pub mod sqlstate {
    pub const SYNTAX_ERROR: &str = "42601";
    pub const SYNTAX_OR_ACCESS_RULE: &str = "42000";
    pub const UNDEFINED_TABLE: &str = "42P01";
    pub const UNDEFINED_COLUMN: &str = "42703";
    pub const AMBIGUOUS_COLUMN: &str = "42702";
    pub const DUPLICATE_COLUMN: &str = "42701";
    pub const UNDEFINED_FUNCTION: &str = "42883";
    pub const UNDEFINED_SCHEMA: &str = "3F000";
    pub const DUPLICATE_TABLE: &str = "42P07";
    pub const DUPLICATE_SCHEMA: &str = "42P06";
    pub const DATATYPE_MISMATCH: &str = "42804";
    pub const DEPENDENT_OBJECTS_STILL_EXIST: &str = "2BP01";
    pub const INVALID_TEXT_REPRESENTATION: &str = "22P02";
    pub const INVALID_PARAMETER_VALUE: &str = "22023";
    pub const DIVISION_BY_ZERO: &str = "22012";
    pub const NUMERIC_VALUE_OUT_OF_RANGE: &str = "22003";
    pub const NOT_NULL_VIOLATION: &str = "23502";
    pub const UNIQUE_VIOLATION: &str = "23505";
    pub const FEATURE_NOT_SUPPORTED: &str = "0A000";
    pub const PROGRAM_LIMIT_EXCEEDED: &str = "54000";
    pub const STATEMENT_TOO_COMPLEX: &str = "54001";
    pub const OUT_OF_MEMORY: &str = "53200";
    pub const QUERY_CANCELED: &str = "57014";
    pub const UNDEFINED_FILE: &str = "58P01";
    pub const IO_ERROR: &str = "58030";
    pub const BAD_COPY_FILE_FORMAT: &str = "22P04";
    pub const INTERNAL_ERROR: &str = "XX000";
    pub const DATA_CORRUPTED: &str = "XX001";
    pub const UNDEFINED_OBJECT: &str = "42704";
    pub const DUPLICATE_OBJECT: &str = "42710";
}

/// An error with the SQLSTATE a Postgres client should see.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SqlError {
    pub code: &'static str,
    pub message: String,
}

impl SqlError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// Wraps the error so it can travel through DataFusion APIs and be recovered by [`classify`].
    pub fn into_datafusion(self) -> DataFusionError {
        DataFusionError::External(Box::new(self))
    }
}

/// Failures of the engine outside of statement execution (start-up, data directory).
#[derive(Debug, thiserror::Error)]
pub enum QuiverError {
    #[error("{0}")]
    DataDir(String),
    #[error(transparent)]
    DataFusion(#[from] DataFusionError),
    #[error("ERROR:  {} (SQLSTATE {})", .0.message, .0.code)]
    Sql(#[from] SqlError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Classifies any error that reached a statement boundary.
pub fn classify_any(err: &(dyn StdError + 'static)) -> SqlError {
    if let Some(e) = err.downcast_ref::<SqlError>() {
        return e.clone();
    }
    if let Some(e) = err.downcast_ref::<quiver_udfs::UdfError>() {
        return SqlError::new(e.sqlstate, e.message.clone());
    }
    if let Some(e) = err.downcast_ref::<DataFusionError>() {
        return classify(e);
    }
    if let Some(e) = err.downcast_ref::<ParserError>() {
        return classify_parser_error(e);
    }
    if let Some(e) = err.downcast_ref::<ArrowError>() {
        return classify_arrow(e);
    }
    SqlError::new(sqlstate::INTERNAL_ERROR, err.to_string())
}

/// Classifies a DataFusion error, looking through the wrappers DataFusion adds for context.
pub fn classify(err: &DataFusionError) -> SqlError {
    let message = strip_datafusion_prefixes(&err.to_string());
    let code = match innermost(err) {
        DataFusionError::SQL(parser_error, _) => return classify_parser_error(parser_error),
        DataFusionError::SchemaError(schema_error, _) => match schema_error.as_ref() {
            SchemaError::FieldNotFound { .. } => sqlstate::UNDEFINED_COLUMN,
            SchemaError::AmbiguousReference { .. } => sqlstate::AMBIGUOUS_COLUMN,
            SchemaError::DuplicateQualifiedField { .. }
            | SchemaError::DuplicateUnqualifiedField { .. } => sqlstate::DUPLICATE_COLUMN,
        },
        DataFusionError::ArrowError(arrow_error, _) => classify_arrow(arrow_error).code,
        DataFusionError::External(inner) => {
            let inner = classify_any(inner.as_ref());
            return SqlError::new(inner.code, message);
        }
        DataFusionError::Plan(text) => classify_plan_text(text),
        DataFusionError::Execution(text) => classify_execution_text(text),
        DataFusionError::NotImplemented(_) => sqlstate::FEATURE_NOT_SUPPORTED,
        DataFusionError::ResourcesExhausted(_) => sqlstate::OUT_OF_MEMORY,
        DataFusionError::Configuration(_) => sqlstate::INVALID_PARAMETER_VALUE,
        DataFusionError::IoError(io) if io.kind() == std::io::ErrorKind::NotFound => {
            sqlstate::UNDEFINED_FILE
        }
        DataFusionError::IoError(_) => sqlstate::IO_ERROR,
        DataFusionError::ObjectStore(store) => match store.as_ref() {
            datafusion::object_store::Error::NotFound { .. } => sqlstate::UNDEFINED_FILE,
            _ => sqlstate::IO_ERROR,
        },
        _ => sqlstate::INTERNAL_ERROR,
    };
    SqlError::new(code, message)
}

fn innermost(mut err: &DataFusionError) -> &DataFusionError {
    loop {
        err = match err {
            DataFusionError::Context(_, inner) | DataFusionError::Diagnostic(_, inner) => inner,
            DataFusionError::Shared(inner) => inner,
            DataFusionError::Collection(errors) if !errors.is_empty() => &errors[0],
            _ => return err,
        }
    }
}

fn classify_parser_error(err: &ParserError) -> SqlError {
    let code = match err {
        ParserError::RecursionLimitExceeded => sqlstate::STATEMENT_TOO_COMPLEX,
        _ => sqlstate::SYNTAX_ERROR,
    };
    SqlError::new(code, strip_datafusion_prefixes(&err.to_string()))
}

fn classify_arrow(err: &ArrowError) -> SqlError {
    let code = match err {
        ArrowError::CastError(_) | ArrowError::ParseError(_) => {
            sqlstate::INVALID_TEXT_REPRESENTATION
        }
        ArrowError::DivideByZero => sqlstate::DIVISION_BY_ZERO,
        ArrowError::ArithmeticOverflow(_) => sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
        ArrowError::CsvError(_) => sqlstate::BAD_COPY_FILE_FORMAT,
        ArrowError::MemoryError(_) => sqlstate::OUT_OF_MEMORY,
        ArrowError::InvalidArgumentError(text)
            if text.contains("non-nullable but contains null") =>
        {
            sqlstate::NOT_NULL_VIOLATION
        }
        ArrowError::ExternalError(inner) => return classify_any(inner.as_ref()),
        _ => sqlstate::INTERNAL_ERROR,
    };
    SqlError::new(code, err.to_string())
}

/// DataFusion reports these planning conditions only as text.
fn classify_plan_text(text: &str) -> &'static str {
    let lower = text.to_ascii_lowercase();
    if lower.starts_with("table '") && lower.contains("' not found") {
        sqlstate::UNDEFINED_TABLE
    } else if (lower.contains("function")
        && (lower.contains("not found") || lower.contains("invalid function")))
        || lower.contains("no function matches")
        || lower.contains("failed to coerce arguments")
        || lower.contains("does not support arguments")
    {
        sqlstate::UNDEFINED_FUNCTION
    } else if lower.contains("schema") && lower.contains("not found") {
        sqlstate::UNDEFINED_SCHEMA
    } else if lower.contains("cannot infer common") || lower.contains("cannot coerce") {
        sqlstate::DATATYPE_MISMATCH
    } else {
        sqlstate::SYNTAX_OR_ACCESS_RULE
    }
}

/// DataFusion reports these execution conditions only as text.
fn classify_execution_text(text: &str) -> &'static str {
    let lower = text.to_ascii_lowercase();
    if lower.contains("has null but schema specifies non-nullable")
        || lower.contains("non-nullable but contains null")
    {
        sqlstate::NOT_NULL_VIOLATION
    } else if lower.starts_with("schema '") && lower.contains("already exists") {
        sqlstate::DUPLICATE_SCHEMA
    } else if lower.contains("already exists") {
        sqlstate::DUPLICATE_TABLE
    } else if lower.contains("cannot cast") || lower.contains("cast error") {
        sqlstate::INVALID_TEXT_REPRESENTATION
    } else if lower.contains("divide by zero") {
        sqlstate::DIVISION_BY_ZERO
    } else {
        sqlstate::INTERNAL_ERROR
    }
}

/// DataFusion prefixes messages with the error kind ("Error during planning: ", ...), which means
/// nothing to a Postgres user: the SQLSTATE carries the kind.
fn strip_datafusion_prefixes(message: &str) -> String {
    const PREFIXES: [&str; 9] = [
        "Error during planning: ",
        "Execution error: ",
        "Schema error: ",
        "SQL error: ",
        "Arrow error: ",
        "External error: ",
        "This feature is not implemented: ",
        "Invalid or Unsupported Configuration: ",
        "ParserError(\"",
    ];
    let mut rest = message.trim();
    let mut changed = true;
    while changed {
        changed = false;
        for prefix in PREFIXES {
            if let Some(stripped) = rest.strip_prefix(prefix) {
                rest = stripped;
                changed = true;
            }
        }
    }
    if message.contains("ParserError(\"") {
        rest = rest.trim_end_matches("\")");
    }
    rest.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;

    async fn sqlstate_of(sql: &str) -> SqlError {
        let ctx = SessionContext::new();
        ctx.sql("CREATE TABLE t (a INT, b TEXT)").await.unwrap();
        let err = match ctx.sql(sql).await {
            Ok(df) => df.collect().await.expect_err("statement should fail"),
            Err(e) => e,
        };
        classify(&err)
    }

    #[tokio::test]
    async fn planner_and_parser_errors_get_postgres_codes() {
        assert_eq!(sqlstate_of("SELEC 1").await.code, sqlstate::SYNTAX_ERROR);
        assert_eq!(
            sqlstate_of("SELECT * FROM nope").await.code,
            sqlstate::UNDEFINED_TABLE
        );
        assert_eq!(
            sqlstate_of("SELECT zzz FROM t").await.code,
            sqlstate::UNDEFINED_COLUMN
        );
        assert_eq!(
            sqlstate_of("SELECT no_such_fn(1)").await.code,
            sqlstate::UNDEFINED_FUNCTION
        );
        assert_eq!(
            sqlstate_of("SELECT CAST('abc' AS INT)").await.code,
            sqlstate::INVALID_TEXT_REPRESENTATION
        );
        assert_eq!(
            sqlstate_of("CREATE TABLE t (x INT)").await.code,
            sqlstate::DUPLICATE_TABLE
        );
    }

    #[test]
    fn messages_lose_datafusion_kind_prefixes() {
        let err = DataFusionError::Plan("table 'x' not found".into());
        assert_eq!(classify(&err).message, "table 'x' not found");
    }

    #[test]
    fn quiver_errors_keep_their_code_through_datafusion() {
        let err = SqlError::new(sqlstate::UNDEFINED_FILE, "no such file").into_datafusion();
        let wrapped = DataFusionError::Context("while copying".into(), Box::new(err));
        assert_eq!(classify(&wrapped).code, sqlstate::UNDEFINED_FILE);
    }
}
