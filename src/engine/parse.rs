//! Turning SQL text into statements, and refusing statements that would not do what they say.

use std::ops::ControlFlow;

use datafusion::sql::parser::{DFParser, Statement};
use datafusion::sql::sqlparser::ast::{self, Expr};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::ParserError;
use datafusion_postgres::datafusion_pg_catalog::sql::PostgresCompatibilityParser;

use crate::error::{SqlError, sqlstate};

/// Parses in PostgreSQL's dialect, with the same compatibility rewrites the wire server applies
/// (so psql's catalog queries work everywhere), after ASOF joins are rewritten into joins
/// DataFusion can plan. Text that only DataFusion's own grammar accepts
/// (`CREATE EXTERNAL TABLE`, `COPY ... STORED AS`) is parsed by DataFusion's parser instead.
pub fn parse_statements(sql: &str) -> Result<Vec<Statement>, SqlError> {
    let rewritten = super::rewrite::rewrite(sql)?;
    let sql = rewritten.as_deref().unwrap_or(sql);
    let postgres = PostgresCompatibilityParser::new();
    match postgres.parse(sql) {
        Ok(statements) => Ok(statements
            .into_iter()
            .map(|s| Statement::Statement(Box::new(s)))
            .collect()),
        Err(postgres_error) => DFParser::parse_sql_with_dialect(sql, &PostgreSqlDialect {})
            .map(Vec::from)
            .map_err(|_| {
                let message = postgres_error.to_string();
                let message = message
                    .strip_prefix("sql parser error: ")
                    .unwrap_or(&message)
                    .to_string();
                let code = if matches!(postgres_error, ParserError::RecursionLimitExceeded) {
                    sqlstate::STATEMENT_TOO_COMPLEX
                } else {
                    sqlstate::SYNTAX_ERROR
                };
                SqlError::new(code, message)
            }),
    }
}

/// DataFusion decorrelates a subquery in an UPDATE's or DELETE's WHERE into a join and hands the
/// table only the remaining filters, which could widen the statement to every row. Until such
/// statements are planned correctly they are refused.
pub fn reject_unsafe_dml(statement: &Statement) -> Result<(), SqlError> {
    let Statement::Statement(statement) = statement else {
        return Ok(());
    };
    let (verb, selection) = match statement.as_ref() {
        ast::Statement::Update(update) => ("UPDATE", update.selection.as_ref()),
        ast::Statement::Delete(delete) => ("DELETE", delete.selection.as_ref()),
        _ => return Ok(()),
    };
    let Some(selection) = selection else {
        return Ok(());
    };
    let has_subquery = ast::visit_expressions(selection, |expr| match expr {
        Expr::Subquery(_) | Expr::InSubquery { .. } | Expr::Exists { .. } => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    })
    .is_break();
    if has_subquery {
        return Err(SqlError::new(
            sqlstate::FEATURE_NOT_SUPPORTED,
            format!(
                "{verb} with a subquery in WHERE is not supported yet; compute the keys first \
                 (e.g. CREATE TABLE keys AS SELECT ...) and use an IN list or a plain predicate"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_and_datafusion_statements_both_parse() {
        assert_eq!(parse_statements("SELECT 1; SELECT 2").unwrap().len(), 2);
        let external =
            parse_statements("CREATE EXTERNAL TABLE e (a INT) STORED AS CSV LOCATION '/tmp/e.csv'")
                .unwrap();
        assert!(matches!(external[0], Statement::CreateExternalTable(_)));
    }

    #[test]
    fn syntax_errors_report_the_postgres_parser_message() {
        let err = parse_statements("SELEC 1").unwrap_err();
        assert_eq!(err.code, sqlstate::SYNTAX_ERROR);
        assert!(err.message.contains("SELEC"), "{}", err.message);
    }

    #[test]
    fn dml_with_subqueries_is_refused_before_it_can_widen() {
        for sql in [
            "DELETE FROM t WHERE id IN (SELECT id FROM u)",
            "UPDATE t SET a = 1 WHERE EXISTS (SELECT 1 FROM u)",
            "DELETE FROM t WHERE a > (SELECT max(a) FROM u)",
        ] {
            let statement = parse_statements(sql).unwrap().remove(0);
            let err = reject_unsafe_dml(&statement).unwrap_err();
            assert_eq!(err.code, sqlstate::FEATURE_NOT_SUPPORTED, "{sql}");
        }
        let plain = parse_statements("DELETE FROM t WHERE id IN (1, 2)")
            .unwrap()
            .remove(0);
        assert!(reject_unsafe_dml(&plain).is_ok());
    }
}
