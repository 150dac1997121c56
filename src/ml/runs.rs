//! Experiment tracking: `ml.runs` (one row per training run) and `ml.run_metrics` (the loss of
//! every iteration and the final evaluation metrics), both append-only Delta tables.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::error::DataFusionError;

use super::train::Iteration;
use super::{MlError, utc_timestamp};
use crate::storage::{TableStore, conform_batch, delta_schema};

pub struct RunRecord {
    pub run_id: String,
    pub model: String,
    pub version: Option<i64>,
    pub status: String,
    pub model_type: String,
    pub options: String,
    pub training_query: String,
    /// Delta version of each table the training query read.
    pub input_versions: BTreeMap<String, i64>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub training_rows: i64,
    pub eval_rows: i64,
    pub created_by: String,
    /// Why a failed run failed.
    pub message: Option<String>,
}

pub fn runs_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("run_id", DataType::Utf8, false),
        Field::new("model", DataType::Utf8, false),
        Field::new("version", DataType::Int64, true),
        Field::new("status", DataType::Utf8, false),
        Field::new("model_type", DataType::Utf8, false),
        Field::new("options", DataType::Utf8, false),
        Field::new("training_query", DataType::Utf8, false),
        Field::new("input_versions", DataType::Utf8, false),
        Field::new("started_at", utc_timestamp(), false),
        Field::new("finished_at", utc_timestamp(), false),
        Field::new("training_rows", DataType::Int64, false),
        Field::new("eval_rows", DataType::Int64, false),
        Field::new("created_by", DataType::Utf8, false),
        Field::new("message", DataType::Utf8, true),
    ]))
}

pub fn run_metrics_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("run_id", DataType::Utf8, false),
        Field::new("name", DataType::Utf8, false),
        Field::new("step", DataType::Int64, false),
        Field::new("value", DataType::Float64, false),
    ]))
}

#[derive(Clone)]
pub struct Runs {
    pub runs: Arc<TableStore>,
    pub metrics: Arc<TableStore>,
}

async fn append(
    store: &TableStore,
    schema: SchemaRef,
    columns: Vec<ArrayRef>,
) -> Result<(), MlError> {
    let batch =
        RecordBatch::try_new(Arc::clone(&schema), columns).map_err(DataFusionError::from)?;
    let target = delta_schema(&schema).map_err(|e| MlError::invalid(e.message))?;
    store.append(vec![conform_batch(&batch, &target)?]).await?;
    Ok(())
}

impl Runs {
    pub async fn record(
        &self,
        run: &RunRecord,
        iterations: &[Iteration],
        metrics: &BTreeMap<String, f64>,
    ) -> Result<(), MlError> {
        let stamp = |t: &DateTime<Utc>| -> ArrayRef {
            Arc::new(
                TimestampMicrosecondArray::from(vec![t.timestamp_micros()]).with_timezone("UTC"),
            )
        };
        let text = |s: &str| -> ArrayRef { Arc::new(StringArray::from(vec![s])) };
        let versions = serde_json::to_string(&run.input_versions).unwrap_or_default();
        append(
            &self.runs,
            runs_schema(),
            vec![
                text(&run.run_id),
                text(&run.model),
                Arc::new(Int64Array::from(vec![run.version])),
                text(&run.status),
                text(&run.model_type),
                text(&run.options),
                text(&run.training_query),
                text(&versions),
                stamp(&run.started_at),
                stamp(&run.finished_at),
                Arc::new(Int64Array::from(vec![run.training_rows])),
                Arc::new(Int64Array::from(vec![run.eval_rows])),
                text(&run.created_by),
                Arc::new(StringArray::from(vec![run.message.clone()])),
            ],
        )
        .await?;
        let mut names = Vec::new();
        let mut steps = Vec::new();
        let mut values = Vec::new();
        for iteration in iterations {
            names.push("training_loss".to_string());
            steps.push(iteration.number as i64);
            values.push(iteration.training_loss);
            if let Some(eval) = iteration.eval_loss {
                names.push("eval_loss".to_string());
                steps.push(iteration.number as i64);
                values.push(eval);
            }
        }
        let last = iterations.last().map_or(0, |i| i.number as i64);
        for (name, value) in metrics {
            names.push(name.clone());
            steps.push(last);
            values.push(*value);
        }
        let rows = names.len();
        append(
            &self.metrics,
            run_metrics_schema(),
            vec![
                Arc::new(StringArray::from(vec![run.run_id.as_str(); rows])),
                Arc::new(StringArray::from(names)),
                Arc::new(Int64Array::from(steps)),
                Arc::new(Float64Array::from(values)),
            ],
        )
        .await
    }
}
