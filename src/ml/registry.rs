//! The model registry. Its durable truth is the append-only Delta table `ml.model_events`
//! (registered, stage changed, dropped — who and when); the current state (`ml.models`,
//! `ml.model_versions`) is replayed from it at start-up and kept in memory. Artifacts live in
//! `<data dir>/models/<model>/<version>/` and are loaded lazily, checked against their digests.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
use serde::{Deserialize, Serialize};

use super::model::{ArtifactDigests, Model, ModelType, ValueType};
use super::profile::FeatureProfile;
use super::{MlError, utc_timestamp};
use crate::storage::{TableStore, conform_batch};

/// Model lifecycle stages, as MLflow names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    None,
    Staging,
    Production,
    Archived,
}

impl Stage {
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "none" => Some(Self::None),
            "staging" => Some(Self::Staging),
            "production" => Some(Self::Production),
            "archived" => Some(Self::Archived),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::None => "None",
            Self::Staging => "Staging",
            Self::Production => "Production",
            Self::Archived => "Archived",
        }
    }
}

/// Everything recorded about one model version when it is registered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VersionRecord {
    pub model: String,
    pub version: i64,
    pub model_type: ModelType,
    pub label: String,
    pub features: Vec<(String, ValueType)>,
    pub options: String,
    pub metrics: BTreeMap<String, f64>,
    pub run_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub digests: ArtifactDigests,
    pub profile: Vec<FeatureProfile>,
    pub training_rows: i64,
    /// `trained` or `imported from <path>`.
    pub source: String,
}

#[derive(Debug, Clone)]
struct VersionState {
    record: Arc<VersionRecord>,
    stage: Stage,
    dropped: bool,
}

/// One row of `ml.model_events`.
struct Event {
    at: DateTime<Utc>,
    model: String,
    version: Option<i64>,
    event: &'static str,
    stage: Option<Stage>,
    actor: String,
    detail: Option<String>,
}

pub struct Registry {
    models_root: PathBuf,
    events: Arc<TableStore>,
    state: RwLock<Vec<VersionState>>,
    /// The next event's sequence number: events replay in this order.
    next_seq: AtomicI64,
    /// Serializes registry changes, so version numbers and stage moves never interleave.
    change: tokio::sync::Mutex<()>,
    cache: Mutex<HashMap<(String, i64), Arc<Model>>>,
}

pub fn events_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("seq", DataType::Int64, false),
        Field::new("at", utc_timestamp(), false),
        Field::new("model", DataType::Utf8, false),
        Field::new("version", DataType::Int64, true),
        Field::new("event", DataType::Utf8, false),
        Field::new("stage", DataType::Utf8, true),
        Field::new("actor", DataType::Utf8, false),
        Field::new("detail", DataType::Utf8, true),
    ]))
}

impl Registry {
    /// Replays `ml.model_events`, given in `seq` order, into the current state.
    pub fn replay(
        models_root: PathBuf,
        events: Arc<TableStore>,
        rows: &[RecordBatch],
    ) -> Result<Self, MlError> {
        let mut state: Vec<VersionState> = Vec::new();
        let mut next_seq = 0;
        for batch in rows {
            if let Some(seq) = batch.column_by_name("seq")
                && let Some(max) = datafusion::arrow::compute::max(
                    cast(seq, &DataType::Int64)
                        .map_err(datafusion::error::DataFusionError::from)?
                        .as_primitive::<Int64Type>(),
                )
            {
                next_seq = next_seq.max(max + 1);
            }
            let text = |name: &str| -> Result<ArrayRef, MlError> {
                let column = batch.column_by_name(name).ok_or_else(|| {
                    MlError::invalid(format!("ml.model_events has no column {name}"))
                })?;
                Ok(cast(column, &DataType::Utf8)
                    .map_err(datafusion::error::DataFusionError::from)?)
            };
            let (model, event, stage, detail) = (
                text("model")?,
                text("event")?,
                text("stage")?,
                text("detail")?,
            );
            let version = cast(
                batch
                    .column_by_name("version")
                    .ok_or_else(|| MlError::invalid("ml.model_events has no version"))?,
                &DataType::Int64,
            )
            .map_err(datafusion::error::DataFusionError::from)?;
            let (model, event, stage, detail) = (
                model.as_string::<i32>(),
                event.as_string::<i32>(),
                stage.as_string::<i32>(),
                detail.as_string::<i32>(),
            );
            let version = version.as_primitive::<Int64Type>();
            for row in 0..batch.num_rows() {
                let name = model.value(row);
                let number = (!version.is_null(row)).then(|| version.value(row));
                match event.value(row) {
                    "registered" => {
                        let record: VersionRecord = serde_json::from_str(detail.value(row))
                            .map_err(|e| {
                                MlError::invalid(format!(
                                    "ml.model_events holds a bad registration: {e}"
                                ))
                            })?;
                        state.push(VersionState {
                            record: Arc::new(record),
                            stage: Stage::None,
                            dropped: false,
                        });
                    }
                    "stage_changed" => {
                        let stage = Stage::parse(stage.value(row)).unwrap_or(Stage::None);
                        if let Some(entry) = state.iter_mut().find(|s| {
                            !s.dropped && s.record.model == name && Some(s.record.version) == number
                        }) {
                            entry.stage = stage;
                        }
                    }
                    "dropped" => state
                        .iter_mut()
                        .filter(|s| s.record.model == name)
                        .for_each(|s| s.dropped = true),
                    _ => {}
                }
            }
        }
        Ok(Self {
            models_root,
            events,
            state: RwLock::new(state),
            next_seq: AtomicI64::new(next_seq),
            change: tokio::sync::Mutex::new(()),
            cache: Mutex::new(HashMap::new()),
        })
    }

    fn live(&self) -> Vec<VersionState> {
        self.state
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|s| !s.dropped)
            .cloned()
            .collect()
    }

    pub fn artifact_dir(&self, model: &str, version: i64) -> PathBuf {
        self.models_root
            .join(crate::storage::encode_name(model))
            .join(version.to_string())
    }

    /// The next version number for `model`: one past any it ever had, dropped ones included,
    /// so a version number never names two different artifacts.
    pub fn next_version(&self, model: &str) -> i64 {
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        state
            .iter()
            .filter(|s| s.record.model == model)
            .map(|s| s.record.version)
            .max()
            .unwrap_or(0)
            + 1
    }

    pub fn exists(&self, model: &str) -> bool {
        self.live().iter().any(|s| s.record.model == model)
    }

    pub async fn lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.change.lock().await
    }

    async fn append(&self, events: Vec<Event>) -> Result<(), MlError> {
        let schema = events_schema();
        let first = self
            .next_seq
            .fetch_add(events.len() as i64, Ordering::SeqCst);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from_iter_values(
                first..first + events.len() as i64,
            )),
            Arc::new(
                TimestampMicrosecondArray::from(
                    events
                        .iter()
                        .map(|e| e.at.timestamp_micros())
                        .collect::<Vec<_>>(),
                )
                .with_timezone("UTC"),
            ),
            Arc::new(StringArray::from_iter_values(
                events.iter().map(|e| e.model.as_str()),
            )),
            Arc::new(Int64Array::from(
                events.iter().map(|e| e.version).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from_iter_values(
                events.iter().map(|e| e.event),
            )),
            Arc::new(StringArray::from(
                events
                    .iter()
                    .map(|e| e.stage.map(Stage::name))
                    .collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from_iter_values(
                events.iter().map(|e| e.actor.as_str()),
            )),
            Arc::new(StringArray::from(
                events
                    .iter()
                    .map(|e| e.detail.as_deref())
                    .collect::<Vec<_>>(),
            )),
        ];
        let batch = RecordBatch::try_new(schema, columns)
            .map_err(datafusion::error::DataFusionError::from)?;
        let target = crate::storage::delta_schema(&events_schema())
            .map_err(|e| MlError::invalid(e.message))?;
        self.events
            .append(vec![conform_batch(&batch, &target)?])
            .await?;
        Ok(())
    }

    /// Records a new version (its artifact already on disk). Call with [`Registry::lock`] held.
    pub async fn register(&self, record: VersionRecord) -> Result<(), MlError> {
        let detail = serde_json::to_string(&record)
            .map_err(|e| MlError::invalid(format!("cannot record the model version: {e}")))?;
        self.append(vec![Event {
            at: record.created_at,
            model: record.model.clone(),
            version: Some(record.version),
            event: "registered",
            stage: Some(Stage::None),
            actor: record.created_by.clone(),
            detail: Some(detail),
        }])
        .await?;
        self.state
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(VersionState {
                record: Arc::new(record),
                stage: Stage::None,
                dropped: false,
            });
        Ok(())
    }

    /// Moves a version to `stage`; a new Production version archives the previous one, so at
    /// most one version of a model is in Production. Returns the version moved.
    pub async fn set_stage(
        &self,
        model: &str,
        stage: Stage,
        version: Option<i64>,
        actor: &str,
    ) -> Result<i64, MlError> {
        let _change = self.lock().await;
        let live: Vec<VersionState> = self
            .live()
            .into_iter()
            .filter(|s| s.record.model == model)
            .collect();
        if live.is_empty() {
            return Err(undefined_model(model));
        }
        let version = match version {
            Some(v) => live
                .iter()
                .find(|s| s.record.version == v)
                .map(|s| s.record.version)
                .ok_or_else(|| {
                    MlError::UndefinedModel(format!(
                        "model \"{model}\" has no version {v}; its versions are {}",
                        live.iter()
                            .map(|s| s.record.version.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?,
            None => live.iter().map(|s| s.record.version).max().unwrap_or(1),
        };
        let now = Utc::now();
        let mut events = Vec::new();
        if stage == Stage::Production {
            for other in live
                .iter()
                .filter(|s| s.stage == Stage::Production && s.record.version != version)
            {
                events.push(Event {
                    at: now,
                    model: model.to_string(),
                    version: Some(other.record.version),
                    event: "stage_changed",
                    stage: Some(Stage::Archived),
                    actor: actor.to_string(),
                    detail: Some(format!("replaced in Production by version {version}")),
                });
            }
        }
        events.push(Event {
            at: now,
            model: model.to_string(),
            version: Some(version),
            event: "stage_changed",
            stage: Some(stage),
            actor: actor.to_string(),
            detail: None,
        });
        let moves: Vec<(i64, Stage)> = events
            .iter()
            .filter_map(|e| Some((e.version?, e.stage?)))
            .collect();
        self.append(events).await?;
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        for (moved, stage) in moves {
            if let Some(entry) = state
                .iter_mut()
                .find(|s| !s.dropped && s.record.model == model && s.record.version == moved)
            {
                entry.stage = stage;
            }
        }
        Ok(version)
    }

    /// Drops every version of a model; the artifacts stay on disk for the audit trail.
    pub async fn drop_model(&self, model: &str, actor: &str) -> Result<bool, MlError> {
        let _change = self.lock().await;
        if !self.exists(model) {
            return Ok(false);
        }
        self.append(vec![Event {
            at: Utc::now(),
            model: model.to_string(),
            version: None,
            event: "dropped",
            stage: None,
            actor: actor.to_string(),
            detail: None,
        }])
        .await?;
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        state
            .iter_mut()
            .filter(|s| s.record.model == model)
            .for_each(|s| s.dropped = true);
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(name, _), _| name != model);
        Ok(true)
    }

    /// Resolves `'name'` (Production, else Staging, else the latest version), `'name@3'` or
    /// `'name@staging'`.
    pub fn resolve(&self, reference: &str) -> Result<Arc<VersionRecord>, MlError> {
        let (name, selector) = match reference.rsplit_once('@') {
            Some((name, selector)) => (name, Some(selector)),
            None => (reference, None),
        };
        // Read in place: predict resolves once per batch, so no copy of the registry here.
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        let live = || state.iter().filter(|s| !s.dropped);
        let mut versions: Vec<&VersionState> = live().filter(|s| s.record.model == name).collect();
        if versions.is_empty() {
            let folded = name.to_lowercase();
            versions = live().filter(|s| s.record.model == folded).collect();
        }
        if versions.is_empty() {
            return Err(undefined_model(name));
        }
        let found = match selector {
            None => versions
                .iter()
                .filter(|s| s.stage == Stage::Production)
                .chain(versions.iter().filter(|s| s.stage == Stage::Staging))
                .max_by_key(|s| (s.stage == Stage::Production, s.record.version))
                .or_else(|| versions.iter().max_by_key(|s| s.record.version)),
            Some(selector) => match selector.parse::<i64>() {
                Ok(version) => versions.iter().find(|s| s.record.version == version),
                Err(_) => {
                    let stage = Stage::parse(selector).ok_or_else(|| {
                        MlError::invalid(format!(
                            "\"{reference}\": after @ comes a version number or a stage \
                             (production, staging, archived, none)"
                        ))
                    })?;
                    versions
                        .iter()
                        .filter(|s| s.stage == stage)
                        .max_by_key(|s| s.record.version)
                }
            },
        };
        found.map(|s| Arc::clone(&s.record)).ok_or_else(|| {
            MlError::UndefinedModel(format!(
                "model \"{name}\" has no version matching \"{reference}\"; its versions are {}",
                versions
                    .iter()
                    .map(|s| format!("{} ({})", s.record.version, s.stage.name()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    }

    /// The loaded model for a version, from the cache or from disk (digests checked).
    pub fn model(&self, record: &VersionRecord) -> Result<Arc<Model>, MlError> {
        let key = (record.model.clone(), record.version);
        if let Some(model) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(Arc::clone(model));
        }
        let model = Arc::new(Model::load(
            &self.artifact_dir(&record.model, record.version),
            Some(&record.digests),
        )?);
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, Arc::clone(&model));
        Ok(model)
    }

    /// `(record, stage)` of every live version, oldest first.
    pub fn versions(&self) -> Vec<(Arc<VersionRecord>, Stage)> {
        self.live()
            .into_iter()
            .map(|s| (s.record, s.stage))
            .collect()
    }
}

pub fn undefined_model(name: &str) -> MlError {
    MlError::UndefinedModel(format!(
        "model \"{name}\" does not exist; SHOW MODELS lists the models there are"
    ))
}
