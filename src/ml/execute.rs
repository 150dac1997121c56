//! Running Quiver's model statements: the engine hands them here, and this turns each into
//! registry changes and a result a client can show.

use std::sync::Arc;

use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::error::Result;

use super::create::create_model;
use super::import::import_model;
use super::registry::Stage;
use super::statement::{ModelSource, ModelStatement};
use super::{MlError, session};
use crate::engine::{CommandTag, Engine, StatementOutcome};

/// The columns `CREATE MODEL` returns.
pub fn created_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("version", DataType::Int64, false),
        Field::new("run_id", DataType::Utf8, true),
        Field::new("metrics", DataType::Utf8, false),
    ]))
}

/// The columns `SHOW MODELS` returns.
pub fn show_models_schema() -> SchemaRef {
    super::system_tables::models_schema()
}

pub async fn execute(engine: &Engine, statement: ModelStatement) -> Result<StatementOutcome> {
    let ml = engine.ml()?;
    let actor = session::current().actor();
    match statement {
        ModelStatement::Create {
            name,
            or_replace,
            options,
            source,
        } => {
            let (model, version, run_id, metrics) = match source {
                ModelSource::Query(query) => {
                    let created =
                        create_model(engine, ml, &name, or_replace, &options, &query).await?;
                    (
                        created.model,
                        created.version,
                        Some(created.run_id),
                        created.metrics,
                    )
                }
                ModelSource::Import(path) => {
                    if !options.is_empty() {
                        return Err(MlError::invalid(
                            "CREATE MODEL ... FROM '<path>' takes no OPTIONS: the model's own model.json describes it",
                        )
                        .into());
                    }
                    let version = import_model(ml, &name, or_replace, &path, &actor).await?;
                    (name, version, None, Default::default())
                }
            };
            let metrics = serde_json::to_string(&metrics).unwrap_or_default();
            let batch = RecordBatch::try_new(
                created_schema(),
                vec![
                    Arc::new(StringArray::from(vec![model])),
                    Arc::new(Int64Array::from(vec![version])),
                    Arc::new(StringArray::from(vec![run_id])),
                    Arc::new(StringArray::from(vec![metrics])),
                ],
            )?;
            Ok(StatementOutcome::Rows(
                engine.session_context().read_batch(batch)?,
            ))
        }
        ModelStatement::AlterStage {
            name,
            stage,
            version,
        } => {
            let stage = Stage::parse(&stage).ok_or_else(|| {
                MlError::invalid(format!(
                    "stage '{stage}' is not one of 'none', 'staging', 'production', 'archived'"
                ))
            })?;
            let version = version.map(|v| v as i64);
            ml.registry.set_stage(&name, stage, version, &actor).await?;
            Ok(StatementOutcome::Command(CommandTag::new("ALTER MODEL")))
        }
        ModelStatement::Drop { name, if_exists } => {
            let dropped = ml.registry.drop_model(&name, &actor).await?;
            if !dropped && !if_exists {
                return Err(super::registry::undefined_model(&name).into());
            }
            Ok(StatementOutcome::Command(CommandTag::new("DROP MODEL")))
        }
        ModelStatement::Show => {
            let frame = engine
                .session_context()
                .sql("SELECT * FROM ml.models ORDER BY model")
                .await?;
            Ok(StatementOutcome::Rows(frame))
        }
    }
}
