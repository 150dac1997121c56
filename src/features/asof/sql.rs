//! Rewrites ASOF joins in SQL text into LEFT JOINs that DataFusion can plan, with the match
//! condition wrapped in the marker function [`super::logical::MARKER`]:
//!
//! ```sql
//! -- Snowflake's spelling
//! ... FROM l ASOF JOIN r MATCH_CONDITION (l.t >= r.t) ON l.k = r.k
//! -- DuckDB's spelling (LEFT is optional: Quiver's ASOF joins always keep every left row)
//! ... FROM l ASOF [LEFT] JOIN r ON l.k = r.k AND l.t >= r.t
//! -- both become
//! ... FROM l LEFT JOIN r ON l.k = r.k AND __quiver_asof_match(l.t >= r.t)
//! ```
//!
//! [`crate::engine::rewrite`] runs this on text that mentions ASOF.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, Ident, JoinConstraint, JoinOperator, Query, SetExpr, TableFactor,
    TableWithJoins, VisitorMut,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::{Token, Whitespace};

use super::logical::MARKER;
use crate::error::{SqlError, sqlstate};

/// Stands in for the match condition of a DuckDB-spelled ASOF join until the ON clause is
/// parsed and the condition can be picked out of it.
const IN_ON_CLAUSE: &str = "__quiver_asof_condition_in_on";

fn keyword(token: &Token) -> Option<Keyword> {
    match token {
        Token::Word(word) if word.quote_style.is_none() => Some(word.keyword),
        _ => None,
    }
}

/// Whether the text mentions ASOF at all (only then is it rewritten).
pub(crate) fn mentions_asof(tokens: &[Token]) -> bool {
    tokens.iter().any(|t| keyword(t) == Some(Keyword::ASOF))
}

/// Drops LEFT [OUTER] after ASOF, and gives an ASOF JOIN with no MATCH_CONDITION a placeholder
/// one, so sqlparser (which knows only Snowflake's spelling) accepts DuckDB's.
pub(crate) fn duckdb_spelling_to_snowflake(tokens: Vec<Token>) -> Vec<Token> {
    let mut out = Vec::with_capacity(tokens.len() + 8);
    let mut at = 0;
    let next_word =
        |from: usize| (from..tokens.len()).find(|&i| !matches!(tokens[i], Token::Whitespace(_)));
    while at < tokens.len() {
        out.push(tokens[at].clone());
        if keyword(&tokens[at]) != Some(Keyword::ASOF) {
            at += 1;
            continue;
        }
        let mut join = next_word(at + 1);
        if let Some(left) = join.filter(|&i| keyword(&tokens[i]) == Some(Keyword::LEFT)) {
            join = next_word(left + 1);
            if let Some(outer) = join.filter(|&i| keyword(&tokens[i]) == Some(Keyword::OUTER)) {
                join = next_word(outer + 1);
            }
        }
        let Some(join) = join.filter(|&i| keyword(&tokens[i]) == Some(Keyword::JOIN)) else {
            at += 1;
            continue;
        };
        out.push(Token::Whitespace(Whitespace::Space));
        out.extend_from_slice(&tokens[join..=join]);
        // The first ON or MATCH_CONDITION outside parentheses ends the joined relation.
        let mut depth = 0i32;
        let mut end = join + 1;
        while end < tokens.len() {
            match &tokens[end] {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                token if depth == 0 && keyword(token) == Some(Keyword::ON) => {
                    out.extend_from_slice(&tokens[join + 1..end]);
                    out.push(Token::make_keyword("MATCH_CONDITION"));
                    out.push(Token::LParen);
                    out.push(Token::make_word(IN_ON_CLAUSE, None));
                    out.push(Token::RParen);
                    out.push(Token::Whitespace(Whitespace::Space));
                    break;
                }
                token
                    if depth == 0 && keyword(token) == Some(Keyword::MATCH_CONDITION)
                        || depth < 0
                        || *token == Token::SemiColon =>
                {
                    out.extend_from_slice(&tokens[join + 1..end]);
                    break;
                }
                _ => {}
            }
            end += 1;
        }
        if end == tokens.len() {
            out.extend_from_slice(&tokens[join + 1..end]);
        }
        at = end;
    }
    out
}

/// Rewrites every ASOF join of a statement, in subqueries and nested joins too.
pub(crate) struct AsofRewriter;

impl VisitorMut for AsofRewriter {
    type Break = SqlError;

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<SqlError> {
        rewrite_set_expr(&mut query.body)
    }

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<SqlError> {
        match factor {
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => rewrite_joins(table_with_joins),
            _ => ControlFlow::Continue(()),
        }
    }
}

fn rewrite_set_expr(body: &mut SetExpr) -> ControlFlow<SqlError> {
    match body {
        SetExpr::Select(select) => {
            for from in &mut select.from {
                rewrite_joins(from)?;
            }
            ControlFlow::Continue(())
        }
        SetExpr::SetOperation { left, right, .. } => {
            rewrite_set_expr(left)?;
            rewrite_set_expr(right)
        }
        _ => ControlFlow::Continue(()),
    }
}

fn rewrite_joins(from: &mut TableWithJoins) -> ControlFlow<SqlError> {
    for join in &mut from.joins {
        if let JoinOperator::AsOf {
            match_condition,
            constraint,
        } = &join.join_operator
        {
            match left_join(match_condition, constraint) {
                Ok(operator) => join.join_operator = operator,
                Err(error) => return ControlFlow::Break(error),
            }
        }
    }
    ControlFlow::Continue(())
}

fn syntax_error(message: impl Into<String>) -> SqlError {
    SqlError::new(sqlstate::SYNTAX_ERROR, message)
}

fn conjuncts(expr: &Expr, out: &mut Vec<Expr>) {
    match expr {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            conjuncts(left, out);
            conjuncts(right, out);
        }
        Expr::Nested(inner)
            if matches!(
                **inner,
                Expr::BinaryOp {
                    op: BinaryOperator::And,
                    ..
                }
            ) =>
        {
            conjuncts(inner, out)
        }
        other => out.push(other.clone()),
    }
}

fn is_inequality(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::BinaryOp {
            op: BinaryOperator::Gt
                | BinaryOperator::GtEq
                | BinaryOperator::Lt
                | BinaryOperator::LtEq,
            ..
        }
    )
}

fn left_join(
    match_condition: &Expr,
    constraint: &JoinConstraint,
) -> Result<JoinOperator, SqlError> {
    let mut on = Vec::new();
    match constraint {
        JoinConstraint::On(expr) => conjuncts(expr, &mut on),
        JoinConstraint::None => {}
        _ => {
            return Err(syntax_error(
                "an ASOF JOIN takes its keys in ON (USING and NATURAL are not supported)",
            ));
        }
    }
    let condition = if *match_condition == Expr::Identifier(Ident::new(IN_ON_CLAUSE)) {
        let (mut conditions, keys): (Vec<Expr>, Vec<Expr>) =
            on.into_iter().partition(is_inequality);
        on = keys;
        match (conditions.pop(), conditions.is_empty()) {
            (Some(condition), true) => condition,
            (None, _) => {
                return Err(syntax_error(
                    "an ASOF JOIN needs one time comparison (>=, >, <=, <) in its ON clause, \
                     or a MATCH_CONDITION (...)",
                ));
            }
            (Some(_), false) => {
                return Err(syntax_error(
                    "an ASOF JOIN's ON clause holds one time comparison; found several",
                ));
            }
        }
    } else {
        match match_condition {
            Expr::Nested(inner) => (**inner).clone(),
            other => other.clone(),
        }
    };
    let marker = Parser::new(&PostgreSqlDialect {})
        .try_with_sql(&format!("{MARKER}({condition})"))
        .and_then(|mut parser| parser.parse_expr())
        .map_err(|e| syntax_error(e.to_string()))?;
    let condition = on
        .into_iter()
        .rev()
        .fold(marker, |rest, key| Expr::BinaryOp {
            left: Box::new(key),
            op: BinaryOperator::And,
            right: Box::new(rest),
        });
    Ok(JoinOperator::Left(JoinConstraint::On(condition)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rewrite::rewrite;

    fn rewritten(sql: &str) -> String {
        rewrite(sql).unwrap().unwrap()
    }

    #[test]
    fn text_without_asof_is_untouched() {
        assert_eq!(
            rewrite("SELECT asof FROM t").unwrap().as_deref(),
            Some("SELECT asof FROM t")
        );
        assert!(
            rewrite("SELECT * FROM a LEFT JOIN b ON a.x = b.x")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn both_spellings_become_a_marked_left_join() {
        let expected =
            "SELECT * FROM l LEFT JOIN r ON l.k = r.k AND __quiver_asof_match(l.t >= r.t)";
        assert_eq!(
            rewritten("SELECT * FROM l ASOF JOIN r MATCH_CONDITION (l.t >= r.t) ON l.k = r.k"),
            expected
        );
        assert_eq!(
            rewritten("SELECT * FROM l ASOF JOIN r ON l.k = r.k AND l.t >= r.t"),
            expected
        );
        assert_eq!(
            rewritten("SELECT * FROM l ASOF LEFT JOIN r ON l.t >= r.t AND l.k = r.k"),
            expected
        );
    }

    #[test]
    fn subqueries_and_several_joins_are_rewritten() {
        let sql = "SELECT * FROM (SELECT * FROM l ASOF JOIN r ON l.k = r.k AND l.t < r.t) x \
                   ASOF JOIN s MATCH_CONDITION (x.t >= s.t) ON x.k = s.k";
        let text = rewritten(sql);
        assert_eq!(text.matches(MARKER).count(), 2, "{text}");
        assert!(!text.contains("ASOF"), "{text}");
    }

    #[test]
    fn a_condition_is_required_and_unique() {
        for sql in [
            "SELECT * FROM l ASOF JOIN r ON l.k = r.k",
            "SELECT * FROM l ASOF JOIN r ON l.t >= r.t AND l.u <= r.u",
            "SELECT * FROM l ASOF JOIN r MATCH_CONDITION (l.t >= r.t) USING (k)",
        ] {
            let err = rewrite(sql).unwrap_err();
            assert_eq!(err.code, sqlstate::SYNTAX_ERROR, "{sql}");
        }
    }
}
