//! Quiver's model statements, which no SQL parser knows: `CREATE [OR REPLACE] MODEL`,
//! `ALTER MODEL ... SET STAGE`, `DROP MODEL`, `SHOW MODELS`. SQL text is split into statements
//! with sqlparser's tokenizer (so `;` inside strings, comments and dollar quotes is respected);
//! the pieces that start with one of these are parsed here, everything else goes on to the
//! SQL parser untouched.

use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer};

use crate::error::{SqlError, sqlstate};
use crate::features::statement::FeatureViewStatement;

/// A value in `OPTIONS (...)`.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue {
    Text(String),
    Number(String),
    Boolean(bool),
    List(Vec<OptionValue>),
}

impl std::fmt::Display for OptionValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Text(text) => write!(f, "'{}'", text.replace('\'', "''")),
            Self::Number(number) => write!(f, "{number}"),
            Self::Boolean(b) => write!(f, "{b}"),
            Self::List(items) => {
                let items: Vec<String> = items.iter().map(ToString::to_string).collect();
                write!(f, "[{}]", items.join(", "))
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ModelSource {
    /// `AS <query>`: the query's text, planned as SQL when the model is trained.
    Query(String),
    /// `FROM 'path'`: a model directory in Quiver's format.
    Import(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ModelStatement {
    Create {
        name: String,
        or_replace: bool,
        options: Vec<(String, OptionValue)>,
        source: ModelSource,
    },
    AlterStage {
        name: String,
        stage: String,
        version: Option<u64>,
    },
    Drop {
        name: String,
        if_exists: bool,
    },
    Show,
}

/// One statement of a SQL text: either Quiver's own or SQL text for the SQL parser.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Model(ModelStatement),
    FeatureView(FeatureViewStatement),
    Sql(String),
}

/// Splits `sql` into pieces when it contains a model statement; `None` when it contains none,
/// so ordinary SQL is parsed exactly as before.
pub fn split_model_statements(sql: &str) -> Result<Option<Vec<Piece>>, SqlError> {
    let Ok(tokens) = Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize_with_location() else {
        // The SQL parser reports tokenizer errors with the right position.
        return Ok(None);
    };
    let offsets = Offsets::new(sql);
    let mut pieces = Vec::new();
    let mut found = false;
    for statement in tokens.split(|t| t.token == Token::SemiColon) {
        let words: Vec<&TokenWithSpan> =
            statement.iter().filter(|t| !is_trivia(&t.token)).collect();
        let Some(first) = words.first() else { continue };
        let text = offsets.text(first, words[words.len() - 1], sql);
        let parser = Parser {
            words: &words,
            at: 0,
            sql,
            offsets: &offsets,
        };
        if is_model_statement(&words) {
            found = true;
            pieces.push(Piece::Model(parser.statement()?));
        } else if is_feature_view_statement(&words) {
            found = true;
            pieces.push(Piece::FeatureView(crate::features::statement::parse(
                parser,
            )?));
        } else {
            pieces.push(Piece::Sql(text.to_string()));
        }
    }
    Ok(found.then_some(pieces))
}

fn is_trivia(token: &Token) -> bool {
    matches!(token, Token::Whitespace(_))
}

fn keyword(token: &Token) -> Option<String> {
    match token {
        Token::Word(word) if word.quote_style.is_none() => Some(word.value.to_ascii_uppercase()),
        _ => None,
    }
}

/// Whether the statement's first words are `prefix`.
fn starts_with(words: &[&TokenWithSpan], prefix: &[&str]) -> bool {
    words.len() >= prefix.len()
        && words
            .iter()
            .zip(prefix)
            .all(|(word, p)| keyword(&word.token).as_deref() == Some(*p))
}

fn is_feature_view_statement(words: &[&TokenWithSpan]) -> bool {
    let starts = |prefix: &[&str]| starts_with(words, prefix);
    starts(&["CREATE", "FEATURE", "VIEW"])
        || starts(&["CREATE", "OR", "REPLACE", "FEATURE", "VIEW"])
        || starts(&["REFRESH", "FEATURE", "VIEW"])
        || starts(&["DROP", "FEATURE", "VIEW"])
}

fn is_model_statement(words: &[&TokenWithSpan]) -> bool {
    let starts = |prefix: &[&str]| starts_with(words, prefix);
    starts(&["CREATE", "MODEL"])
        || starts(&["CREATE", "OR", "REPLACE", "MODEL"])
        || starts(&["ALTER", "MODEL"])
        || starts(&["DROP", "MODEL"])
        || starts(&["SHOW", "MODELS"])
}

/// Byte offsets of the starts of lines, to turn the tokenizer's (line, column) into slices.
struct Offsets {
    line_starts: Vec<usize>,
}

impl Offsets {
    fn new(sql: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(sql.match_indices('\n').map(|(i, _)| i + 1));
        Self { line_starts }
    }

    /// The byte offset of a (1-based line, 1-based character column) location.
    fn at(&self, location: Location, sql: &str) -> usize {
        let line = location.line.max(1) as usize - 1;
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        let column = location.column.max(1) as usize - 1;
        sql[start..]
            .char_indices()
            .nth(column)
            .map_or(sql.len(), |(i, _)| start + i)
    }

    /// The text from the start of `first` to the end of `last` (a span's end is exclusive).
    fn text<'s>(&self, first: &TokenWithSpan, last: &TokenWithSpan, sql: &'s str) -> &'s str {
        let start = self.at(first.span.start, sql);
        let end = self.at(last.span.end, sql).max(start);
        &sql[start..end]
    }
}

/// Walks the words of one Quiver statement.
pub(crate) struct Parser<'a> {
    words: &'a [&'a TokenWithSpan],
    at: usize,
    sql: &'a str,
    offsets: &'a Offsets,
}

impl Parser<'_> {
    /// The statement's text from the current word to its end (a query after AS).
    pub(crate) fn rest(&self) -> Option<String> {
        let first = self.words.get(self.at)?;
        let last = self.words[self.words.len() - 1];
        Some(self.offsets.text(first, last, self.sql).to_string())
    }

    pub(crate) fn peek(&self) -> Option<&Token> {
        self.words.get(self.at).map(|t| &t.token)
    }

    pub(crate) fn next(&mut self) -> Option<&Token> {
        let token = self.words.get(self.at).map(|t| &t.token);
        self.at += 1;
        token
    }

    pub(crate) fn error(&self, expected: &str) -> SqlError {
        let found = self
            .peek()
            .map_or("end of statement".to_string(), |t| format!("\"{t}\""));
        SqlError::new(
            sqlstate::SYNTAX_ERROR,
            format!("expected {expected}, found {found}"),
        )
    }

    pub(crate) fn accept(&mut self, word: &str) -> bool {
        if self.peek().and_then(keyword).as_deref() == Some(word) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    pub(crate) fn expect(&mut self, word: &str) -> Result<(), SqlError> {
        if self.accept(word) {
            Ok(())
        } else {
            Err(self.error(word))
        }
    }

    pub(crate) fn expect_token(&mut self, token: Token, what: &str) -> Result<(), SqlError> {
        if self.peek() == Some(&token) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    pub(crate) fn end(&self) -> Result<(), SqlError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error("end of statement")),
        }
    }

    /// A name: an identifier, as Postgres folds it (unquoted → lower case).
    pub(crate) fn name(&mut self) -> Result<String, SqlError> {
        match self.next() {
            Some(Token::Word(word)) if word.quote_style.is_some() => Ok(word.value.clone()),
            Some(Token::Word(word)) => Ok(word.value.to_lowercase()),
            _ => {
                self.at -= 1;
                Err(self.error("a name"))
            }
        }
    }

    pub(crate) fn string(&mut self, what: &str) -> Result<String, SqlError> {
        match self.next() {
            Some(Token::SingleQuotedString(text)) => Ok(text.clone()),
            _ => {
                self.at -= 1;
                Err(self.error(what))
            }
        }
    }

    fn statement(mut self) -> Result<ModelStatement, SqlError> {
        if self.accept("SHOW") {
            self.expect("MODELS")?;
            self.end()?;
            return Ok(ModelStatement::Show);
        }
        if self.accept("DROP") {
            self.expect("MODEL")?;
            let if_exists = self.accept("IF");
            if if_exists {
                self.expect("EXISTS")?;
            }
            let name = self.name()?;
            self.end()?;
            return Ok(ModelStatement::Drop { name, if_exists });
        }
        if self.accept("ALTER") {
            self.expect("MODEL")?;
            let name = self.name()?;
            self.expect("SET")?;
            self.expect("STAGE")?;
            let stage = self.string("a stage in quotes ('production', 'staging', ...)")?;
            let version = if self.accept("VERSION") {
                match self.next() {
                    Some(Token::Number(n, _)) => Some(n.parse().map_err(|_| {
                        SqlError::new(
                            sqlstate::INVALID_PARAMETER_VALUE,
                            format!("VERSION must be a positive integer, not {n}"),
                        )
                    })?),
                    _ => {
                        self.at -= 1;
                        return Err(self.error("a version number"));
                    }
                }
            } else {
                None
            };
            self.end()?;
            return Ok(ModelStatement::AlterStage {
                name,
                stage,
                version,
            });
        }
        self.expect("CREATE")?;
        let or_replace = self.accept("OR");
        if or_replace {
            self.expect("REPLACE")?;
        }
        self.expect("MODEL")?;
        let name = self.name()?;
        let mut options = Vec::new();
        let mut source = None;
        if self.accept("FROM") {
            source = Some(ModelSource::Import(
                self.string("a model directory path in quotes")?,
            ));
        }
        if self.accept("OPTIONS") {
            options = self.options()?;
        }
        let source = match source {
            Some(source) => {
                self.end()?;
                source
            }
            None => {
                if !self.accept("AS") {
                    return Err(self.error("AS <query> or FROM '<path>'"));
                }
                let Some(first) = self.words.get(self.at) else {
                    return Err(self.error("a query after AS"));
                };
                let last = self.words[self.words.len() - 1];
                ModelSource::Query(self.offsets.text(first, last, self.sql).to_string())
            }
        };
        Ok(ModelStatement::Create {
            name,
            or_replace,
            options,
            source,
        })
    }

    fn options(&mut self) -> Result<Vec<(String, OptionValue)>, SqlError> {
        self.expect_token(Token::LParen, "( after OPTIONS")?;
        let mut options = Vec::new();
        if self.peek() == Some(&Token::RParen) {
            self.at += 1;
            return Ok(options);
        }
        loop {
            let key = match self.next() {
                Some(Token::Word(word)) => word.value.to_ascii_lowercase(),
                _ => {
                    self.at -= 1;
                    return Err(self.error("an option name"));
                }
            };
            self.expect_token(Token::Eq, "= after the option name")?;
            options.push((key, self.value()?));
            match self.next() {
                Some(Token::Comma) => continue,
                Some(Token::RParen) => return Ok(options),
                _ => {
                    self.at -= 1;
                    return Err(self.error(", or ) in OPTIONS"));
                }
            }
        }
    }

    fn value(&mut self) -> Result<OptionValue, SqlError> {
        let negative = self.peek() == Some(&Token::Minus);
        if negative {
            self.at += 1;
        }
        match self.next().cloned() {
            Some(Token::Number(n, _)) => Ok(OptionValue::Number(if negative {
                format!("-{n}")
            } else {
                n
            })),
            Some(Token::SingleQuotedString(text)) if !negative => Ok(OptionValue::Text(text)),
            Some(Token::Word(word)) if !negative && word.value.eq_ignore_ascii_case("true") => {
                Ok(OptionValue::Boolean(true))
            }
            Some(Token::Word(word)) if !negative && word.value.eq_ignore_ascii_case("false") => {
                Ok(OptionValue::Boolean(false))
            }
            Some(open @ (Token::LBracket | Token::LParen)) if !negative => {
                let close = if open == Token::LBracket {
                    Token::RBracket
                } else {
                    Token::RParen
                };
                let mut items = Vec::new();
                if self.peek() == Some(&close) {
                    self.at += 1;
                    return Ok(OptionValue::List(items));
                }
                loop {
                    items.push(self.value()?);
                    match self.next() {
                        Some(Token::Comma) => continue,
                        Some(token) if *token == close => return Ok(OptionValue::List(items)),
                        _ => {
                            self.at -= 1;
                            return Err(self.error("a comma or the end of the list"));
                        }
                    }
                }
            }
            _ => {
                self.at -= 1;
                Err(self.error("an option value (a number, 'text', true/false or [list])"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(sql: &str) -> Vec<Piece> {
        split_model_statements(sql)
            .unwrap()
            .expect("has a model statement")
    }

    #[test]
    fn plain_sql_is_left_to_the_sql_parser() {
        assert_eq!(
            split_model_statements("SELECT 1; SELECT 'create model x'").unwrap(),
            None
        );
    }

    #[test]
    fn parses_create_model_with_options_and_keeps_the_query_text() {
        let sql = "SELECT 1;\nCREATE OR REPLACE MODEL Churn OPTIONS (model_type = 'logistic_reg', \
                   input_label_cols = ['churned'], l2_reg = 0.01, early_stop = false, \
                   hidden_units = [32, 16]) AS SELECT a, 'x;y' AS b FROM t WHERE c > -1";
        let got = pieces(sql);
        assert_eq!(got[0], Piece::Sql("SELECT 1".into()));
        let Piece::Model(ModelStatement::Create {
            name,
            or_replace,
            options,
            source,
        }) = &got[1]
        else {
            panic!("{got:?}")
        };
        assert_eq!(name, "churn");
        assert!(or_replace);
        assert_eq!(
            options[1].1,
            OptionValue::List(vec![OptionValue::Text("churned".into())])
        );
        assert_eq!(
            options[2],
            ("l2_reg".into(), OptionValue::Number("0.01".into()))
        );
        assert_eq!(options[3].1, OptionValue::Boolean(false));
        assert_eq!(
            *source,
            ModelSource::Query("SELECT a, 'x;y' AS b FROM t WHERE c > -1".into())
        );
    }

    #[test]
    fn parses_the_other_model_statements() {
        let got = pieces(
            "ALTER MODEL m SET STAGE 'production' VERSION 3; DROP MODEL IF EXISTS m; SHOW MODELS; \
             CREATE MODEL imported FROM '/tmp/model dir'",
        );
        assert_eq!(
            got[0],
            Piece::Model(ModelStatement::AlterStage {
                name: "m".into(),
                stage: "production".into(),
                version: Some(3)
            })
        );
        assert_eq!(
            got[1],
            Piece::Model(ModelStatement::Drop {
                name: "m".into(),
                if_exists: true
            })
        );
        assert_eq!(got[2], Piece::Model(ModelStatement::Show));
        assert_eq!(
            got[3],
            Piece::Model(ModelStatement::Create {
                name: "imported".into(),
                or_replace: false,
                options: vec![],
                source: ModelSource::Import("/tmp/model dir".into())
            })
        );
    }

    #[test]
    fn malformed_model_statements_are_syntax_errors() {
        for sql in [
            "CREATE MODEL m OPTIONS (model_type 'x') AS SELECT 1",
            "CREATE MODEL m OPTIONS (model_type = 'x')",
            "ALTER MODEL m SET STAGE production",
            "DROP MODEL",
        ] {
            let err = split_model_statements(sql).unwrap_err();
            assert_eq!(err.code, sqlstate::SYNTAX_ERROR, "{sql}: {err}");
        }
    }
}
