//! SQL that DataFusion's planner does not take as written, rewritten into SQL it does, on the
//! parsed statement (never by splicing text):
//! - ASOF joins (see [`crate::features::asof::sql`]);
//! - named arguments of table functions (`f('q', entity => 'id')`), which DataFusion refuses:
//!   each becomes the positional argument `named_struct('entity', 'id')`, and
//!   [`named_argument`] reads it back.

use std::ops::ControlFlow;

use datafusion::common::ScalarValue;
use datafusion::logical_expr::Expr;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::sql::sqlparser::ast::{
    self, FunctionArg, FunctionArgExpr, TableFactor, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

use crate::error::{SqlError, sqlstate};
use crate::features::asof::sql::{AsofRewriter, duckdb_spelling_to_snowflake, mentions_asof};

/// `sql` rewritten, or `None` when it needs no rewriting.
pub fn rewrite(sql: &str) -> Result<Option<String>, SqlError> {
    let dialect = PostgreSqlDialect {};
    let Ok(tokens) = Tokenizer::new(&dialect, sql).tokenize() else {
        // The SQL parser reports tokenizer errors with their position.
        return Ok(None);
    };
    let asof = mentions_asof(&tokens);
    let named = tokens.contains(&Token::RArrow);
    if !asof && !named {
        return Ok(None);
    }
    let tokens = if asof {
        duckdb_spelling_to_snowflake(tokens)
    } else {
        tokens
    };
    let text: String = tokens.iter().map(ToString::to_string).collect();
    let mut statements = Parser::parse_sql(&dialect, &text)
        .map_err(|e| SqlError::new(sqlstate::SYNTAX_ERROR, e.to_string()))?;
    for statement in &mut statements {
        if let ControlFlow::Break(error) = statement.visit(&mut AsofRewriter) {
            return Err(error);
        }
        if let ControlFlow::Break(error) = statement.visit(&mut NamedArguments) {
            return Err(error);
        }
    }
    Ok(Some(
        statements
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(";\n"),
    ))
}

/// The function that carries a named argument to a table function.
const CARRIER: &str = "named_struct";

struct NamedArguments;

impl VisitorMut for NamedArguments {
    type Break = SqlError;

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<SqlError> {
        let TableFactor::Table {
            args: Some(args), ..
        } = factor
        else {
            return ControlFlow::Continue(());
        };
        for arg in &mut args.args {
            let (name, value) = match arg {
                FunctionArg::Named {
                    name,
                    arg: FunctionArgExpr::Expr(value),
                    ..
                } => (name.value.clone(), value.clone()),
                FunctionArg::ExprNamed {
                    name: ast::Expr::Identifier(name),
                    arg: FunctionArgExpr::Expr(value),
                    ..
                } => (name.value.clone(), value.clone()),
                FunctionArg::Unnamed(_) => continue,
                other => {
                    return ControlFlow::Break(SqlError::new(
                        sqlstate::SYNTAX_ERROR,
                        format!("unsupported table function argument {other}"),
                    ));
                }
            };
            let name = name.to_lowercase().replace('\'', "''");
            let carrier = Parser::new(&PostgreSqlDialect {})
                .try_with_sql(&format!("{CARRIER}('{name}', {value})"))
                .and_then(|mut parser| parser.parse_expr());
            match carrier {
                Ok(expr) => *arg = FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)),
                Err(e) => {
                    return ControlFlow::Break(SqlError::new(
                        sqlstate::SYNTAX_ERROR,
                        e.to_string(),
                    ));
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// The name and value of an argument written `name => value`, as [`rewrite`] passes it (the
/// planner folds a constant `named_struct` into a one-field struct literal).
pub fn named_argument(expr: &Expr) -> Option<(String, Expr)> {
    match expr {
        Expr::ScalarFunction(ScalarFunction { func, args }) if func.name() == CARRIER => {
            match args.as_slice() {
                [
                    Expr::Literal(
                        ScalarValue::Utf8(Some(name))
                        | ScalarValue::Utf8View(Some(name))
                        | ScalarValue::LargeUtf8(Some(name)),
                        _,
                    ),
                    value,
                ] => Some((name.clone(), value.clone())),
                _ => None,
            }
        }
        Expr::Literal(ScalarValue::Struct(fields), _) if fields.num_columns() == 1 => {
            let name = fields.fields()[0].name().clone();
            let value = ScalarValue::try_from_array(fields.column(0), 0).ok()?;
            Some((name, Expr::Literal(value, None)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_table_function_arguments_become_carried_positional_ones() {
        let text = rewrite("SELECT * FROM f('q', Entity => 'id', windows => '1 day')")
            .unwrap()
            .unwrap();
        assert_eq!(
            text,
            "SELECT * FROM f('q', named_struct('entity', 'id'), named_struct('windows', '1 day'))"
        );
        assert!(rewrite("SELECT f(1)").unwrap().is_none());
    }
}
