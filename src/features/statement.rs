//! The feature view statements:
//!
//! ```sql
//! CREATE [OR REPLACE] FEATURE VIEW name ENTITY (key [, ...]) TIMESTAMP (ts)
//!     [CREATED (created_ts)] [TTL INTERVAL '30 days'] { AS <query> | FROM table }
//! REFRESH FEATURE VIEW name
//! DROP FEATURE VIEW [IF EXISTS] name
//! ```

use datafusion::sql::sqlparser::tokenizer::Token;

use crate::error::SqlError;
use crate::ml::statement::Parser;

/// Where a view's rows come from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ViewSource {
    /// `AS <query>`: the query's text.
    Query(String),
    /// `FROM table`: every row of a table.
    Table(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum FeatureViewStatement {
    Create {
        name: String,
        or_replace: bool,
        entity: Vec<String>,
        timestamp: String,
        created: Option<String>,
        ttl: Option<String>,
        source: ViewSource,
    },
    Refresh {
        name: String,
    },
    Drop {
        name: String,
        if_exists: bool,
    },
}

/// A parenthesized list of column names.
fn columns(parser: &mut Parser, what: &str) -> Result<Vec<String>, SqlError> {
    parser.expect_token(Token::LParen, &format!("( before the {what} column"))?;
    let mut names = vec![parser.name()?];
    while parser.peek() == Some(&Token::Comma) {
        parser.next();
        names.push(parser.name()?);
    }
    parser.expect_token(Token::RParen, &format!(") after the {what} column"))?;
    Ok(names)
}

fn one_column(parser: &mut Parser, what: &str) -> Result<String, SqlError> {
    let mut names = columns(parser, what)?;
    match (names.pop(), names.is_empty()) {
        (Some(name), true) => Ok(name),
        _ => Err(SqlError::new(
            crate::error::sqlstate::SYNTAX_ERROR,
            format!("a feature view has one {what} column"),
        )),
    }
}

pub(crate) fn parse(mut parser: Parser) -> Result<FeatureViewStatement, SqlError> {
    if parser.accept("REFRESH") {
        parser.expect("FEATURE")?;
        parser.expect("VIEW")?;
        let name = parser.name()?;
        parser.end()?;
        return Ok(FeatureViewStatement::Refresh { name });
    }
    if parser.accept("DROP") {
        parser.expect("FEATURE")?;
        parser.expect("VIEW")?;
        let if_exists = parser.accept("IF");
        if if_exists {
            parser.expect("EXISTS")?;
        }
        let name = parser.name()?;
        parser.end()?;
        return Ok(FeatureViewStatement::Drop { name, if_exists });
    }
    parser.expect("CREATE")?;
    let or_replace = parser.accept("OR");
    if or_replace {
        parser.expect("REPLACE")?;
    }
    parser.expect("FEATURE")?;
    parser.expect("VIEW")?;
    let name = parser.name()?;
    parser.expect("ENTITY")?;
    let entity = columns(&mut parser, "entity")?;
    parser.expect("TIMESTAMP")?;
    let timestamp = one_column(&mut parser, "timestamp")?;
    let created = if parser.accept("CREATED") {
        Some(one_column(&mut parser, "created")?)
    } else {
        None
    };
    let ttl = if parser.accept("TTL") {
        parser.accept("INTERVAL");
        Some(parser.string("an interval in quotes after TTL, such as TTL INTERVAL '30 days'")?)
    } else {
        None
    };
    let source = if parser.accept("FROM") {
        let table = parser.name()?;
        parser.end()?;
        ViewSource::Table(table)
    } else if parser.accept("AS") {
        ViewSource::Query(
            parser
                .rest()
                .ok_or_else(|| parser.error("a query after AS"))?,
        )
    } else {
        return Err(parser.error("AS <query> or FROM <table>"));
    };
    Ok(FeatureViewStatement::Create {
        name,
        or_replace,
        entity,
        timestamp,
        created,
        ttl,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::statement::{Piece, split_model_statements};

    fn parsed(sql: &str) -> Result<FeatureViewStatement, SqlError> {
        match split_model_statements(sql)?.and_then(|mut p| p.pop()) {
            Some(Piece::FeatureView(statement)) => Ok(statement),
            other => panic!("{sql}: {other:?}"),
        }
    }

    #[test]
    fn create_with_every_clause() {
        let statement = parsed(
            "CREATE OR REPLACE FEATURE VIEW Stats ENTITY (customer_id, \"Region\") \
             TIMESTAMP (event_ts) CREATED (loaded_at) TTL INTERVAL '30 days' \
             AS SELECT * FROM daily WHERE x = ';'",
        )
        .unwrap();
        assert_eq!(
            statement,
            FeatureViewStatement::Create {
                name: "stats".into(),
                or_replace: true,
                entity: vec!["customer_id".into(), "Region".into()],
                timestamp: "event_ts".into(),
                created: Some("loaded_at".into()),
                ttl: Some("30 days".into()),
                source: ViewSource::Query("SELECT * FROM daily WHERE x = ';'".into()),
            }
        );
        let from = parsed("CREATE FEATURE VIEW v ENTITY (k) TIMESTAMP (t) FROM src").unwrap();
        assert!(matches!(
            from,
            FeatureViewStatement::Create { source: ViewSource::Table(t), ttl: None, .. } if t == "src"
        ));
    }

    #[test]
    fn refresh_and_drop() {
        assert_eq!(
            parsed("REFRESH FEATURE VIEW v").unwrap(),
            FeatureViewStatement::Refresh { name: "v".into() }
        );
        assert_eq!(
            parsed("DROP FEATURE VIEW IF EXISTS v").unwrap(),
            FeatureViewStatement::Drop {
                name: "v".into(),
                if_exists: true
            }
        );
    }

    #[test]
    fn malformed_statements_are_syntax_errors() {
        for sql in [
            "CREATE FEATURE VIEW v TIMESTAMP (t) AS SELECT 1",
            "CREATE FEATURE VIEW v ENTITY (k) AS SELECT 1",
            "CREATE FEATURE VIEW v ENTITY (k) TIMESTAMP (t, u) AS SELECT 1",
            "CREATE FEATURE VIEW v ENTITY (k) TIMESTAMP (t) TTL 30 AS SELECT 1",
            "CREATE FEATURE VIEW v ENTITY (k) TIMESTAMP (t)",
            "DROP FEATURE VIEW v extra",
        ] {
            let err = split_model_statements(sql).unwrap_err();
            assert_eq!(err.code, crate::error::sqlstate::SYNTAX_ERROR, "{sql}");
        }
    }
}
