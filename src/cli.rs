//! `quiver sql`: runs SQL against a data directory with no server, printing each result as an
//! aligned table (or CSV) and each command's tag, stopping at the first error.

use std::io::Write;
use std::path::{Path, PathBuf};

use datafusion::arrow::csv::WriterBuilder;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches_with_schema;
use datafusion::error::DataFusionError;

use crate::engine::{Engine, StatementOutcome};
use crate::error::{QuiverError, classify};
use crate::ml::session::StatementSession;

pub enum SqlSource {
    File(PathBuf),
    Text(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    Csv,
}

pub async fn run_sql(
    data_dir: &Path,
    source: SqlSource,
    format: OutputFormat,
) -> Result<(), QuiverError> {
    let text = match source {
        SqlSource::Text(text) => text,
        SqlSource::File(path) => std::fs::read_to_string(&path).map_err(|e| {
            QuiverError::Io(std::io::Error::new(
                e.kind(),
                format!("cannot read {}: {e}", path.display()),
            ))
        })?,
    };
    let engine = Engine::open(data_dir).await?;
    let statements = engine.parse(&text).map_err(QuiverError::Sql)?;
    // Progress messages (training's NOTICEs) go to stderr, as psql prints them.
    let (notices, mut received) = tokio::sync::mpsc::unbounded_channel::<String>();
    let printer = tokio::spawn(async move {
        while let Some(message) = received.recv().await {
            eprintln!("NOTICE:  {message}");
        }
    });
    let session = StatementSession {
        user: None,
        notices: Some(notices),
    };
    let mut out = std::io::stdout().lock();
    for statement in statements {
        let outcome = crate::ml::session::scope(session.clone(), engine.execute(statement))
            .await
            .map_err(|e| QuiverError::Sql(classify(&e)))?;
        match outcome {
            StatementOutcome::Command(tag) => writeln!(out, "{tag}")?,
            StatementOutcome::Rows(frame) => {
                let schema = frame.schema().as_arrow().clone();
                let batches = frame
                    .collect()
                    .await
                    .map_err(|e| QuiverError::Sql(classify(&e)))?;
                print_rows(&mut out, &schema, &batches, format)?;
            }
        }
    }
    out.flush()?;
    drop(session);
    let _ = printer.await;
    Ok(())
}

fn print_rows(
    out: &mut impl Write,
    schema: &datafusion::arrow::datatypes::Schema,
    batches: &[RecordBatch],
    format: OutputFormat,
) -> Result<(), QuiverError> {
    let arrow_error =
        |e: datafusion::arrow::error::ArrowError| QuiverError::DataFusion(DataFusionError::from(e));
    match format {
        OutputFormat::Table => {
            let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
            let table = pretty_format_batches_with_schema(schema.clone().into(), batches)
                .map_err(arrow_error)?;
            writeln!(out, "{table}")?;
            writeln!(out, "({rows} row{})", if rows == 1 { "" } else { "s" })?;
        }
        OutputFormat::Csv => {
            let mut writer = WriterBuilder::new().with_header(true).build(&mut *out);
            if batches.is_empty() {
                writer
                    .write(&RecordBatch::new_empty(schema.clone().into()))
                    .map_err(arrow_error)?;
            }
            for batch in batches {
                writer.write(batch).map_err(arrow_error)?;
            }
        }
    }
    Ok(())
}
