//! `CREATE [OR REPLACE] MODEL name OPTIONS (...) AS <query>`: read the training query's
//! batches, learn the preprocessing, train on candle (reporting progress), evaluate, write the
//! artifact and register the version.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Utc;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch, UInt32Array};
use datafusion::arrow::compute::{cast, concat, filter, is_not_null, take};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema};
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::datasource::source_as_provider;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::LogicalPlan;
use futures::StreamExt;

use super::encoding::{encode, fit_feature, value_type_of};
use super::model::{ClassLabel, FORMAT, FeatureSpec, LabelSpec, Model, ModelSpec, ValueType};
use super::options::{DataSplit, TrainingOptions};
use super::profile::profile;
use super::registry::VersionRecord;
use super::runs::{RunRecord, Runs};
use super::statement::OptionValue;
use super::train::{GOLDEN_GAMMA, Inputs, Iteration, Targets, mix64, train, unit_interval};
use super::{Ml, MlError, metrics, scoring, session};
use crate::engine::Engine;
use crate::storage::DurableTable;

/// The row `CREATE MODEL` returns.
pub struct Created {
    pub model: String,
    pub version: i64,
    pub run_id: String,
    pub metrics: BTreeMap<String, f64>,
}

/// A training run until its record is written. A cancelled statement drops its future: then
/// this sets the flag the training thread checks at each iteration, and writes the run's record
/// (as cancelled, or failed when [`PendingRun::fail`] said so) from a task of its own.
struct PendingRun {
    runs: Runs,
    record: Option<RunRecord>,
    cancelled: Arc<AtomicBool>,
}

impl PendingRun {
    fn fail(&mut self, message: String) {
        if let Some(record) = &mut self.record {
            record.status = "failed".into();
            record.message = Some(message);
        }
    }
}

impl Drop for PendingRun {
    fn drop(&mut self) {
        self.cancelled.store(true, Ordering::SeqCst);
        if let Some(mut record) = self.record.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            record.finished_at = Utc::now();
            let runs = self.runs.clone();
            runtime.spawn(async move {
                if let Err(e) = runs.record(&record, &[], &BTreeMap::new()).await {
                    tracing::warn!("could not record run {}: {e}", record.run_id);
                }
            });
        }
    }
}

struct TrainingSet {
    features: Vec<(String, ValueType)>,
    columns: Vec<ArrayRef>,
    label: ArrayRef,
    label_type: ValueType,
}

pub async fn create_model(
    engine: &Engine,
    ml: &Ml,
    name: &str,
    or_replace: bool,
    raw_options: &[(String, OptionValue)],
    query: &str,
) -> Result<Created, MlError> {
    let options = TrainingOptions::parse(raw_options)?;
    if !or_replace && ml.registry.exists(name) {
        return Err(MlError::DuplicateModel(format!(
            "model \"{name}\" already exists; CREATE OR REPLACE MODEL adds a new version"
        )));
    }
    let session = session::current();
    let started_at = Utc::now();
    let run_id = format!("run-{}", started_at.format("%Y%m%dT%H%M%S%.6fZ"));
    let frame = engine.select_frame(query).await?;
    let input_versions = table_versions(frame.logical_plan());
    let data = read_training_set(frame, &options.label, options.model_type.is_classifier()).await?;

    let (label_spec, classes, targets_of) = label_encoding(&options, &data)?;
    let rows = data.label.len();
    let (train_rows, eval_rows) = split(&options, rows);
    let take_rows = |columns: &[ArrayRef], rows: &[u32]| -> Result<Vec<ArrayRef>, MlError> {
        let indices = UInt32Array::from(rows.to_vec());
        Ok(columns
            .iter()
            .map(|c| take(c, &indices, None))
            .collect::<Result<_, _>>()
            .map_err(DataFusionError::from)?)
    };
    let train_columns = take_rows(&data.columns, &train_rows)?;
    let train_label = take_rows(std::slice::from_ref(&data.label), &train_rows)?.remove(0);
    let features: Vec<FeatureSpec> = data
        .features
        .iter()
        .zip(&train_columns)
        .map(|((name, value_type), column)| fit_feature(name, *value_type, column))
        .collect::<Result<_, _>>()?;
    let profiles = features
        .iter()
        .zip(&train_columns)
        .map(|(feature, column)| profile(feature, column))
        .collect::<Result<Vec<_>, _>>()?;
    let width: usize = features.iter().map(FeatureSpec::width).sum();
    let train_inputs = Inputs {
        columns: encode(&features, &train_columns)?,
        width,
        rows: train_rows.len(),
    };
    let train_targets = targets_of(&train_label)?;
    let (eval_set, eval_training) = if eval_rows.is_empty() {
        (None, None)
    } else {
        let columns = take_rows(&data.columns, &eval_rows)?;
        let label = take_rows(std::slice::from_ref(&data.label), &eval_rows)?.remove(0);
        let inputs = Inputs {
            columns: encode(&features, &columns)?,
            width,
            rows: eval_rows.len(),
        };
        let targets = targets_of(&label)?;
        (Some((columns, label)), Some((inputs, targets)))
    };

    session.notice(format!(
        "training {} \"{name}\" on {} rows ({} held out for evaluation), {} features → {width} inputs, on {}",
        options.model_type.name(),
        train_rows.len(),
        eval_rows.len(),
        features.len(),
        super::model::device_name(&super::model::device())
    ));
    let cancelled = Arc::new(AtomicBool::new(false));
    let options_text = raw_options
        .iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut pending = PendingRun {
        runs: ml.runs.clone(),
        record: Some(RunRecord {
            run_id: run_id.clone(),
            model: name.to_string(),
            version: None,
            status: "cancelled".into(),
            model_type: options.model_type.name().into(),
            options: options_text,
            training_query: query.to_string(),
            input_versions,
            started_at,
            finished_at: started_at,
            training_rows: train_rows.len() as i64,
            eval_rows: eval_rows.len() as i64,
            created_by: session.actor(),
            message: None,
        }),
        cancelled: Arc::clone(&cancelled),
    };
    let outcome = async {
        let training = {
            let options = options.clone();
            let session = session.clone();
            let cancelled = Arc::clone(&cancelled);
            let max = options.max_iterations;
            // Training is CPU-bound: it runs on a blocking thread, so other connections keep going
            // and a cancelled statement (its future dropped) is noticed at the next iteration.
            tokio::task::spawn_blocking(move || {
                let eval = eval_training
                    .as_ref()
                    .map(|(inputs, targets)| (inputs, targets));
                train(
                    &options,
                    (&train_inputs, &train_targets),
                    eval,
                    &mut |iteration: Iteration| {
                        if cancelled.load(Ordering::SeqCst) {
                            return Err(MlError::Canceled(
                                "CREATE MODEL was cancelled; nothing was registered".into(),
                            ));
                        }
                        if iteration.number <= 10
                            || iteration.number.is_multiple_of(10)
                            || iteration.number == max
                        {
                            session.notice(match iteration.eval_loss {
                                Some(eval) => format!(
                                    "iteration {}/{max}: training loss {:.6}, eval loss {eval:.6}",
                                    iteration.number, iteration.training_loss
                                ),
                                None => format!(
                                    "iteration {}/{max}: training loss {:.6}",
                                    iteration.number, iteration.training_loss
                                ),
                            });
                        }
                        Ok(())
                    },
                )
            })
        };
        let trained = training
            .await
            .map_err(|e| MlError::invalid(format!("training stopped unexpectedly: {e}")))??;
        let spec = ModelSpec {
            format: FORMAT.to_string(),
            model_type: options.model_type,
            label: label_spec,
            classes,
            features,
            layers: trained.layers.clone(),
        };
        let model = Model::new(spec.clone(), trained.tensors.clone())?;
        let metrics = match &eval_set {
            Some((columns, label)) => evaluate_rows(engine, &model, columns, label).await?,
            None => evaluate_rows(engine, &model, &train_columns, &train_label).await?,
        };
        session.notice(format!(
            "{} on the {} rows: {}",
            if eval_set.is_some() {
                "evaluation"
            } else {
                "training fit"
            },
            if eval_set.is_some() {
                eval_rows.len()
            } else {
                train_rows.len()
            },
            metrics
                .iter()
                .map(|(k, v)| format!("{k} {v:.4}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));

        let _change = ml.registry.lock().await;
        if cancelled.load(Ordering::SeqCst) {
            return Err(MlError::Canceled(
                "CREATE MODEL was cancelled; nothing was registered".into(),
            ));
        }
        let version = ml.registry.next_version(name);
        let digests = Model::save(
            &spec,
            &trained.tensors,
            &ml.registry.artifact_dir(name, version),
        )?;
        let mut record = pending
            .record
            .take()
            .ok_or_else(|| MlError::invalid("the training run was already recorded"))?;
        record.version = Some(version);
        record.status = "succeeded".into();
        record.finished_at = Utc::now();
        ml.runs
            .record(&record, &trained.iterations, &metrics)
            .await?;
        ml.registry
            .register(VersionRecord {
                model: name.to_string(),
                version,
                model_type: options.model_type,
                label: options.label.clone(),
                features: data.features.clone(),
                options: record.options.clone(),
                metrics: metrics.clone(),
                run_id: Some(run_id.clone()),
                created_at: record.finished_at,
                created_by: session.actor(),
                digests,
                profile: profiles,
                training_rows: train_rows.len() as i64,
                source: "trained".into(),
            })
            .await?;
        Ok(Created {
            model: name.to_string(),
            version,
            run_id,
            metrics,
        })
    }
    .await;
    if let Err(error) = &outcome
        && !matches!(error, MlError::Canceled(_))
    {
        pending.fail(error.to_string());
    }
    outcome
}

/// Scores `columns` and computes the model's metrics against `label`.
pub async fn evaluate_rows(
    engine: &Engine,
    model: &Model,
    columns: &[ArrayRef],
    label: &ArrayRef,
) -> Result<BTreeMap<String, f64>, MlError> {
    let scores = scoring::score(model, columns)?;
    let mut fields = vec![
        Field::new("label", label.data_type().clone(), true),
        Field::new("predicted", scoring::prediction_type(&model.spec), true),
    ];
    let mut arrays = vec![Arc::clone(label), scores.predictions()];
    if model.spec.classes.len() == 2 {
        fields.push(Field::new("probability", DataType::Float64, true));
        arrays.push(Arc::new(Float64Array::from(scores.class_probabilities(1))));
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .map_err(DataFusionError::from)?;
    let frame = engine.session_context().read_batch(batch)?;
    Ok(metrics::evaluate(&engine.session_context().state(), &model.spec, frame).await?)
}

/// The Delta version of every durable table the training query reads, for reproducibility.
fn table_versions(plan: &LogicalPlan) -> BTreeMap<String, i64> {
    let mut versions = BTreeMap::new();
    let _ = plan.apply(|node| {
        if let LogicalPlan::TableScan(scan) = node
            && let Ok(provider) = source_as_provider(&scan.source)
            && let Some(table) =
                (provider.as_ref() as &dyn std::any::Any).downcast_ref::<DurableTable>()
            && let Some(version) = table.store().delta_table().version()
        {
            versions.insert(scan.table_name.to_string(), version as i64);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    versions
}

async fn read_training_set(
    frame: datafusion::prelude::DataFrame,
    label: &str,
    classifier: bool,
) -> Result<TrainingSet, MlError> {
    let schema = frame.schema().as_arrow().clone();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let label_index = names.iter().position(|n| *n == label).ok_or_else(|| {
        MlError::UndefinedColumn(format!(
            "label column \"{label}\" is not among the training query's columns ({}); name it \
             with input_label_cols = ['column']",
            names.join(", ")
        ))
    })?;
    let mut features = Vec::new();
    for (index, field) in schema.fields().iter().enumerate() {
        let value_type = value_type_of(field.data_type()).ok_or_else(|| {
            MlError::invalid(format!(
                "column \"{}\" has type {}, which models cannot take; cast it to a number or text",
                field.name(),
                field.data_type()
            ))
        })?;
        if index != label_index {
            features.push((field.name().clone(), value_type));
        }
    }
    if features.is_empty() {
        return Err(MlError::invalid(
            "the training query has no feature columns besides the label",
        ));
    }
    let label_type =
        value_type_of(schema.field(label_index).data_type()).unwrap_or(ValueType::Double);
    if !classifier && label_type == ValueType::Text {
        return Err(MlError::invalid(format!(
            "label \"{label}\" is text; a regression model needs a numeric label"
        )));
    }
    let mut stream = frame.execute_stream().await?;
    let mut parts: Vec<Vec<ArrayRef>> = vec![Vec::new(); schema.fields().len()];
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        // Rows without a label teach nothing; they are left out (and counted as not trained on).
        let keep = is_not_null(batch.column(label_index)).map_err(DataFusionError::from)?;
        for (index, column) in batch.columns().iter().enumerate() {
            parts[index].push(filter(column, &keep).map_err(DataFusionError::from)?);
        }
    }
    let columns: Vec<ArrayRef> = parts
        .iter()
        .zip(schema.fields())
        .map(|(parts, field)| {
            if parts.is_empty() {
                Ok(datafusion::arrow::array::new_empty_array(field.data_type()))
            } else {
                let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
                concat(&refs)
            }
        })
        .collect::<Result<_, _>>()
        .map_err(DataFusionError::from)?;
    if columns[label_index].is_empty() {
        return Err(MlError::invalid(
            "the training query returned no rows with a non-NULL label; there is nothing to train on",
        ));
    }
    let mut columns = columns;
    let label_column = columns.remove(label_index);
    Ok(TrainingSet {
        features,
        columns,
        label: label_column,
        label_type,
    })
}

type TargetsOf = Box<dyn Fn(&ArrayRef) -> Result<Targets, MlError> + Send + Sync>;

/// The label's spec, the classes (sorted, as scikit-learn's `classes_`) and how to turn label
/// values into training targets.
fn label_encoding(
    options: &TrainingOptions,
    data: &TrainingSet,
) -> Result<(LabelSpec, Vec<ClassLabel>, TargetsOf), MlError> {
    let label = LabelSpec {
        name: options.label.clone(),
        value_type: data.label_type,
    };
    if !options.model_type.is_classifier() {
        let targets: TargetsOf = Box::new(|array: &ArrayRef| {
            let values = cast(array, &DataType::Float64).map_err(DataFusionError::from)?;
            let values: Vec<f64> = values.as_primitive::<Float64Type>().values().to_vec();
            if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
                return Err(MlError::invalid(format!(
                    "the label contains {bad}; labels must be finite"
                )));
            }
            Ok(Targets::Values(values))
        });
        return Ok((label, Vec::new(), targets));
    }
    let keys = class_keys(&data.label)?;
    let mut classes: Vec<ClassLabel> = Vec::new();
    for key in &keys {
        if !classes.contains(key) {
            classes.push(key.clone());
        }
    }
    classes.sort_by(|a, b| match (a, b) {
        (ClassLabel::Integer(x), ClassLabel::Integer(y)) => x.cmp(y),
        (ClassLabel::Boolean(x), ClassLabel::Boolean(y)) => x.cmp(y),
        _ => a.to_string().cmp(&b.to_string()),
    });
    if classes.len() < 2 {
        return Err(MlError::invalid(format!(
            "label \"{}\" has a single class ({}); a classifier needs at least two",
            options.label,
            classes.first().map_or(String::new(), ToString::to_string)
        )));
    }
    let lookup = classes.clone();
    let targets: TargetsOf = Box::new(move |array: &ArrayRef| {
        let indices = class_keys(array)?
            .iter()
            .map(|key| lookup.iter().position(|c| c == key).unwrap_or(0) as u32)
            .collect();
        Ok(Targets::Classes {
            indices,
            count: lookup.len(),
        })
    });
    Ok((label, classes, targets))
}

fn class_keys(array: &ArrayRef) -> Result<Vec<ClassLabel>, MlError> {
    Ok(match value_type_of(array.data_type()) {
        Some(ValueType::Text) => {
            let text = cast(array, &DataType::Utf8).map_err(DataFusionError::from)?;
            text.as_string::<i32>()
                .iter()
                .map(|v| ClassLabel::Text(v.unwrap_or_default().to_string()))
                .collect()
        }
        Some(ValueType::Boolean) => array
            .as_boolean()
            .iter()
            .map(|v| ClassLabel::Boolean(v.unwrap_or(false)))
            .collect(),
        Some(ValueType::Bigint) => {
            let ints = cast(array, &DataType::Int64).map_err(DataFusionError::from)?;
            ints.as_primitive::<datafusion::arrow::datatypes::Int64Type>()
                .iter()
                .map(|v| ClassLabel::Integer(v.unwrap_or_default()))
                .collect()
        }
        _ => {
            return Err(MlError::invalid(format!(
                "a classifier's label must be text, an integer or a boolean, not {}",
                array.data_type()
            )));
        }
    })
}

/// Row indices for training and for evaluation. The random split hashes each row's position
/// with the seed, so the same rows in the same order split the same way.
fn split(options: &TrainingOptions, rows: usize) -> (Vec<u32>, Vec<u32>) {
    let fraction = match options.data_split {
        DataSplit::NoSplit => 0.0,
        DataSplit::Auto if rows < 500 => 0.0,
        DataSplit::Auto => 0.2,
        DataSplit::Random { eval_fraction } => eval_fraction,
    };
    let mut train = Vec::with_capacity(rows);
    let mut eval = Vec::new();
    for row in 0..rows as u32 {
        let draw = unit_interval(mix64(
            options.seed ^ u64::from(row).wrapping_mul(GOLDEN_GAMMA),
        ));
        if draw < fraction {
            eval.push(row);
        } else {
            train.push(row);
        }
    }
    if train.is_empty() {
        // A tiny table must still train on something.
        return (eval, Vec::new());
    }
    (train, eval)
}
