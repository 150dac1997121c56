//! PostgreSQL's COPY: loading a table from a CSV/text/Parquet file or from a client's stream,
//! and writing a table or query to a CSV/Parquet file. Every load is a single commit.

use std::io::Read;
use std::sync::Arc;

use datafusion::arrow::csv::ReaderBuilder;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::TableReference;
use datafusion::common::config::CsvOptions;
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, cast, col, lit};
use datafusion::prelude::{DataFrame, ParquetReadOptions};
use datafusion::scalar::ScalarValue;
use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{
    self, CopyLegacyCsvOption, CopyLegacyOption, CopyOption, CopySource, CopyTarget,
};

use super::{CommandTag, Engine, StatementOutcome, affected_rows};
use crate::error::{SqlError, sqlstate};

const READ_BATCH_ROWS: usize = 8192;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyFormat {
    /// PostgreSQL's default: tab-separated, `\N` for NULL.
    Text,
    Csv,
    Parquet,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyOptions {
    pub format: CopyFormat,
    pub header: bool,
    pub delimiter: u8,
    /// The spelling of NULL; `None` means the format's default.
    pub null: Option<String>,
    pub quote: u8,
    pub escape: Option<u8>,
}

/// A `COPY table [(columns)] FROM ...` statement, resolved against the catalog.
#[derive(Debug, Clone)]
pub struct CopyInTarget {
    pub table: TableReference,
    pub columns: Vec<String>,
    pub options: CopyOptions,
}

fn invalid(message: impl Into<String>) -> DataFusionError {
    SqlError::new(sqlstate::INVALID_PARAMETER_VALUE, message).into_datafusion()
}

fn single_byte(what: &str, c: char) -> Result<u8> {
    u8::try_from(u32::from(c))
        .ok()
        .filter(u8::is_ascii)
        .ok_or_else(|| invalid(format!("COPY {what} must be a single one-byte character")))
}

impl CopyOptions {
    pub fn from_statement(options: &[CopyOption], legacy: &[CopyLegacyOption]) -> Result<Self> {
        let mut format = CopyFormat::Text;
        let mut header = false;
        let mut delimiter = None;
        let mut null = None;
        let mut quote = b'"';
        let mut escape = None;
        for option in options {
            match option {
                CopyOption::Format(name) => {
                    format = match name.value.to_ascii_lowercase().as_str() {
                        "csv" => CopyFormat::Csv,
                        "text" => CopyFormat::Text,
                        "parquet" => CopyFormat::Parquet,
                        other => {
                            return Err(invalid(format!(
                                "COPY format \"{other}\" not recognized; use csv, text or parquet"
                            )));
                        }
                    }
                }
                CopyOption::Header(on) => header = *on,
                CopyOption::Delimiter(c) => delimiter = Some(single_byte("delimiter", *c)?),
                CopyOption::Null(text) => null = Some(text.clone()),
                CopyOption::Quote(c) => quote = single_byte("quote", *c)?,
                CopyOption::Escape(c) => escape = Some(single_byte("escape", *c)?),
                CopyOption::Encoding(encoding)
                    if encoding.eq_ignore_ascii_case("utf8")
                        || encoding.eq_ignore_ascii_case("utf-8") => {}
                other => {
                    return Err(SqlError::new(
                        sqlstate::FEATURE_NOT_SUPPORTED,
                        format!("COPY option {other} is not supported"),
                    )
                    .into_datafusion());
                }
            }
        }
        for option in legacy {
            match option {
                CopyLegacyOption::Csv(csv_options) => {
                    format = CopyFormat::Csv;
                    for csv_option in csv_options {
                        match csv_option {
                            CopyLegacyCsvOption::Header => header = true,
                            CopyLegacyCsvOption::Quote(c) => quote = single_byte("quote", *c)?,
                            CopyLegacyCsvOption::Escape(c) => {
                                escape = Some(single_byte("escape", *c)?)
                            }
                            other => {
                                return Err(SqlError::new(
                                    sqlstate::FEATURE_NOT_SUPPORTED,
                                    format!("COPY option {other} is not supported"),
                                )
                                .into_datafusion());
                            }
                        }
                    }
                }
                CopyLegacyOption::Header => header = true,
                CopyLegacyOption::Delimiter(c) => delimiter = Some(single_byte("delimiter", *c)?),
                CopyLegacyOption::Null(text) => null = Some(text.clone()),
                CopyLegacyOption::Parquet => format = CopyFormat::Parquet,
                other => {
                    return Err(SqlError::new(
                        sqlstate::FEATURE_NOT_SUPPORTED,
                        format!("COPY option {other} is not supported"),
                    )
                    .into_datafusion());
                }
            }
        }
        let delimiter = delimiter.unwrap_or(match format {
            CopyFormat::Csv => b',',
            _ => b'\t',
        });
        Ok(Self {
            format,
            header,
            delimiter,
            null,
            quote,
            escape,
        })
    }

    fn null_pattern(&self) -> Result<Option<regex::Regex>> {
        let spelling = match (&self.null, self.format) {
            (Some(text), _) => text.clone(),
            (None, CopyFormat::Text) => "\\N".to_string(),
            // CSV's default NULL is the empty unquoted field, which is Arrow's default too.
            (None, _) => return Ok(None),
        };
        regex::Regex::new(&format!("^{}$", regex::escape(&spelling)))
            .map(Some)
            .map_err(|e| invalid(format!("COPY NULL: {e}")))
    }
}

/// Runs COPY statements that involve files. Returns `None` for anything else.
pub(super) async fn execute_copy(
    engine: &Engine,
    statement: &Statement,
) -> Result<Option<StatementOutcome>> {
    let Statement::Statement(inner) = statement else {
        return Ok(None);
    };
    let ast::Statement::Copy {
        source,
        to,
        target,
        options,
        legacy_options,
        ..
    } = inner.as_ref()
    else {
        return Ok(None);
    };
    let options = CopyOptions::from_statement(options, legacy_options)?;
    let filename = match target {
        CopyTarget::File { filename } => filename,
        CopyTarget::Stdin | CopyTarget::Stdout => {
            return Err(SqlError::new(
                sqlstate::FEATURE_NOT_SUPPORTED,
                "COPY FROM STDIN / TO STDOUT needs a client that streams the data (psql's \\copy \
                 or a driver's COPY API); with quiver sql, COPY from or to a file instead",
            )
            .into_datafusion());
        }
        CopyTarget::Program { .. } => {
            return Err(SqlError::new(
                sqlstate::FEATURE_NOT_SUPPORTED,
                "COPY ... PROGRAM is not supported",
            )
            .into_datafusion());
        }
    };
    let rows = if *to {
        copy_to_file(engine, source, filename, &options).await?
    } else {
        let target = copy_in_target(source, options)?;
        copy_from_file(engine, &target, filename).await?
    };
    Ok(Some(StatementOutcome::Command(
        CommandTag::new("COPY").with_rows(rows),
    )))
}

/// The target of a `COPY ... FROM STDIN`, for the server's copy-in handling.
pub fn copy_from_stdin_target(statement: &ast::Statement) -> Result<Option<CopyInTarget>> {
    match statement {
        ast::Statement::Copy {
            source,
            to: false,
            target: CopyTarget::Stdin,
            options,
            legacy_options,
            ..
        } => {
            let options = CopyOptions::from_statement(options, legacy_options)?;
            copy_in_target(source, options).map(Some)
        }
        _ => Ok(None),
    }
}

fn copy_in_target(source: &CopySource, options: CopyOptions) -> Result<CopyInTarget> {
    match source {
        CopySource::Table {
            table_name,
            columns,
        } => Ok(CopyInTarget {
            table: TableReference::from(table_name.to_string()),
            columns: columns.iter().map(|c| c.value.clone()).collect(),
            options,
        }),
        CopySource::Query(_) => Err(SqlError::new(
            sqlstate::SYNTAX_ERROR,
            "COPY FROM needs a table, not a query",
        )
        .into_datafusion()),
    }
}

async fn copy_from_file(engine: &Engine, target: &CopyInTarget, filename: &str) -> Result<u64> {
    if target.options.format == CopyFormat::Parquet {
        let frame = engine
            .session_context()
            .read_parquet(filename, ParquetReadOptions::default())
            .await?;
        return insert_frame(engine, target, frame).await;
    }
    let file = std::fs::File::open(filename).map_err(|e| {
        let code = if e.kind() == std::io::ErrorKind::NotFound {
            sqlstate::UNDEFINED_FILE
        } else {
            sqlstate::IO_ERROR
        };
        SqlError::new(
            code,
            format!("could not open file \"{filename}\" for reading: {e}"),
        )
        .into_datafusion()
    })?;
    load_delimited(engine, target, std::io::BufReader::new(file)).await
}

/// Parses delimited text (CSV or PostgreSQL text format) into the target table, in one commit.
pub async fn load_delimited(
    engine: &Engine,
    target: &CopyInTarget,
    input: impl Read,
) -> Result<u64> {
    let columns = target_columns(engine, target).await?;
    let read_schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|field| Field::new(field.name(), readable_type(field.data_type()), true))
            .collect::<Vec<_>>(),
    ));
    let options = &target.options;
    let mut builder = ReaderBuilder::new(Arc::clone(&read_schema))
        .with_header(options.header)
        .with_delimiter(options.delimiter)
        .with_quote(options.quote)
        .with_batch_size(READ_BATCH_ROWS);
    if let Some(escape) = options.escape {
        builder = builder.with_escape(escape);
    }
    if let Some(pattern) = options.null_pattern()? {
        builder = builder.with_null_regex(pattern);
    }
    let reader = builder.build(input).map_err(bad_copy_data)?;
    let batches = reader
        .collect::<std::result::Result<Vec<RecordBatch>, _>>()
        .map_err(bad_copy_data)?;
    let frame = engine
        .session_context()
        .read_batches(std::iter::once(RecordBatch::new_empty(read_schema)).chain(batches))?;
    insert_frame(engine, target, frame).await
}

fn bad_copy_data(err: datafusion::arrow::error::ArrowError) -> DataFusionError {
    SqlError::new(
        sqlstate::BAD_COPY_FILE_FORMAT,
        format!("COPY could not read its input: {err}"),
    )
    .into_datafusion()
}

/// CSV is parsed with plain UTF-8 strings; the insert casts them to the table's own types.
fn readable_type(data_type: &DataType) -> DataType {
    match data_type {
        DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
        DataType::BinaryView | DataType::LargeBinary => DataType::Binary,
        other => other.clone(),
    }
}

/// How many columns each input row of a COPY FROM must have; fails if a named column is missing.
pub async fn copy_in_column_count(engine: &Engine, target: &CopyInTarget) -> Result<usize> {
    Ok(target_columns(engine, target).await?.len())
}

/// The table's fields that the COPY names, in the order its input has them.
async fn target_columns(engine: &Engine, target: &CopyInTarget) -> Result<Vec<Arc<Field>>> {
    let schema = table_schema(engine, &target.table).await?;
    if target.columns.is_empty() {
        return Ok(schema.fields().iter().cloned().collect());
    }
    target
        .columns
        .iter()
        .map(|name| {
            schema
                .field_with_name(name)
                .map(|f| Arc::new(f.clone()))
                .map_err(|_| {
                    SqlError::new(
                        sqlstate::UNDEFINED_COLUMN,
                        format!(
                            "column \"{name}\" of relation \"{}\" does not exist",
                            target.table
                        ),
                    )
                    .into_datafusion()
                })
        })
        .collect()
}

async fn table_schema(engine: &Engine, table: &TableReference) -> Result<SchemaRef> {
    Ok(engine
        .session_context()
        .table_provider(table.clone())
        .await?
        .schema())
}

/// Inserts a frame whose columns are named like the table's, filling unnamed columns with NULL.
async fn insert_frame(engine: &Engine, target: &CopyInTarget, frame: DataFrame) -> Result<u64> {
    let schema = table_schema(engine, &target.table).await?;
    let available: Vec<String> = frame
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let projection: Vec<Expr> = schema
        .fields()
        .iter()
        .map(|field| {
            let value = if available.iter().any(|name| name == field.name()) {
                cast(
                    col(format!("\"{}\"", field.name().replace('"', "\"\""))),
                    field.data_type().clone(),
                )
            } else {
                cast(lit(ScalarValue::Null), field.data_type().clone())
            };
            value.alias(field.name())
        })
        .collect();
    let batches = frame
        .select(projection)?
        .write_table(&target.table.to_string(), DataFrameWriteOptions::new())
        .await?;
    affected_rows(&batches)
}

async fn copy_to_file(
    engine: &Engine,
    source: &CopySource,
    filename: &str,
    options: &CopyOptions,
) -> Result<u64> {
    let ctx = engine.session_context();
    let frame = match source {
        CopySource::Table {
            table_name,
            columns,
        } => {
            let frame = ctx
                .table(TableReference::from(table_name.to_string()))
                .await?;
            if columns.is_empty() {
                frame
            } else {
                let names: Vec<&str> = columns.iter().map(|c| c.value.as_str()).collect();
                frame.select_columns(&names)?
            }
        }
        CopySource::Query(query) => {
            let statement = Statement::Statement(Box::new(ast::Statement::Query(query.clone())));
            let plan = ctx.state().statement_to_plan(statement).await?;
            ctx.execute_logical_plan(plan).await?
        }
    };
    let write_options = DataFrameWriteOptions::new().with_single_file_output(true);
    let written = match options.format {
        CopyFormat::Parquet => frame.write_parquet(filename, write_options, None).await?,
        CopyFormat::Csv | CopyFormat::Text => {
            let csv = CsvOptions::default()
                .with_has_header(options.header)
                .with_delimiter(options.delimiter);
            frame.write_csv(filename, write_options, Some(csv)).await?
        }
    };
    affected_rows(&written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    fn options_of(sql: &str) -> CopyOptions {
        let statement = Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .unwrap()
            .remove(0);
        match statement {
            ast::Statement::Copy {
                options,
                legacy_options,
                ..
            } => CopyOptions::from_statement(&options, &legacy_options).unwrap(),
            other => panic!("not a COPY: {other}"),
        }
    }

    #[test]
    fn psql_and_modern_spellings_mean_the_same() {
        let legacy = options_of("COPY t FROM STDIN CSV HEADER");
        let modern = options_of("COPY t FROM STDIN WITH (FORMAT csv, HEADER true)");
        assert_eq!(legacy, modern);
        assert_eq!(legacy.format, CopyFormat::Csv);
        assert!(legacy.header);
        assert_eq!(legacy.delimiter, b',');
    }

    #[test]
    fn text_format_is_tab_separated_with_backslash_n_nulls() {
        let text = options_of("COPY t FROM STDIN");
        assert_eq!(text.format, CopyFormat::Text);
        assert_eq!(text.delimiter, b'\t');
        assert!(text.null_pattern().unwrap().unwrap().is_match("\\N"));
    }
}
