//! The online index of a feature view: each entity's latest row, in memory, kept current as
//! rows are appended to the view's table and rebuilt when rows change in place, when the view
//! is refreshed, and at startup.

use std::collections::HashMap;
use std::sync::RwLock;

use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::compute::{cast, interleave_record_batch};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};

use super::time_order::{TimeDomain, time_values};
use super::view::FeatureView;
use crate::error::{SqlError, sqlstate};
use crate::storage::TableWatcher;

/// Where an entity's latest row lives.
#[derive(Debug, Clone, Copy)]
struct Entry {
    chunk: usize,
    row: usize,
    time: i64,
}

/// Appended batches are kept as they came until this many pile up, then compacted.
const MAX_CHUNKS: usize = 64;

struct State {
    chunks: Vec<RecordBatch>,
    latest: HashMap<Box<[u8]>, Entry>,
    newest: Option<i64>,
    rows: u64,
    /// Rows changed in place since the index was built; it must be rebuilt before use.
    stale: bool,
}

pub struct OnlineIndex {
    view: FeatureView,
    schema: SchemaRef,
    key_types: Vec<DataType>,
    converter: RowConverter,
    state: RwLock<State>,
}

/// Freshness figures of a view.
#[derive(Debug, Clone, Copy)]
pub struct Freshness {
    pub rows: u64,
    /// The newest timestamp, in nanoseconds since the epoch.
    pub newest: Option<i64>,
}

impl OnlineIndex {
    /// Indexes `batches`, the view's rows.
    pub fn build(view: FeatureView, schema: SchemaRef, batches: &[RecordBatch]) -> Result<Self> {
        view.check_schema(&schema)?;
        let key_types: Vec<DataType> = view
            .entity
            .iter()
            .map(|k| Ok(schema.field_with_name(k)?.data_type().clone()))
            .collect::<Result<_>>()?;
        let converter = RowConverter::new(
            key_types
                .iter()
                .map(|t| SortField::new(t.clone()))
                .collect(),
        )?;
        let index = Self {
            view,
            schema,
            key_types,
            converter,
            state: RwLock::new(State {
                chunks: vec![],
                latest: HashMap::new(),
                newest: None,
                rows: 0,
                stale: false,
            }),
        };
        index.add(batches)?;
        index.compact()?;
        Ok(index)
    }

    pub fn view(&self) -> &FeatureView {
        &self.view
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    pub fn is_stale(&self) -> bool {
        self.read().stale
    }

    pub fn freshness(&self) -> Freshness {
        let state = self.read();
        Freshness {
            rows: state.rows,
            newest: state.newest,
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        // A poisoned lock means a panic mid-update; the index is then rebuilt before use.
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    fn column(&self, batch: &RecordBatch, name: &str) -> Result<ArrayRef> {
        batch.column_by_name(name).cloned().ok_or_else(|| {
            DataFusionError::Internal(format!(
                "feature view {} lost its column {name}",
                self.view.name
            ))
        })
    }

    /// `batch` with the view's columns in the view's types (appends arrive as they were
    /// written, before the table's own type conversions).
    fn conform(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        if batch.schema() == self.schema {
            return Ok(batch.clone());
        }
        let columns = self
            .schema
            .fields()
            .iter()
            .map(|field| Ok(cast(&self.column(batch, field.name())?, field.data_type())?))
            .collect::<Result<Vec<_>>>()?;
        Ok(RecordBatch::try_new(self.schema.clone(), columns)?)
    }

    /// Folds `batches` in: a row replaces an entity's entry when its time is not older (so of
    /// two rows with one time, the later-written wins).
    fn add(&self, batches: &[RecordBatch]) -> Result<()> {
        let batches = batches
            .iter()
            .filter(|b| b.num_rows() > 0)
            .map(|b| self.conform(b))
            .collect::<Result<Vec<_>>>()?;
        let mut state = self.write();
        for batch in &batches {
            let keys = self
                .view
                .entity
                .iter()
                .zip(&self.key_types)
                .map(|(name, data_type)| Ok(cast(&self.column(batch, name)?, data_type)?))
                .collect::<Result<Vec<_>>>()?;
            let times = time_values(
                &self.column(batch, &self.view.timestamp)?,
                TimeDomain::Instant,
            )?;
            let encoded = self.converter.convert_columns(&keys)?;
            let chunk = state.chunks.len();
            state.chunks.push(batch.clone());
            state.rows += batch.num_rows() as u64;
            for (row, time) in times.iter().enumerate() {
                let Some(time) = *time else { continue };
                if keys.iter().any(|k| k.is_null(row)) {
                    continue;
                }
                state.newest = Some(state.newest.map_or(time, |n| n.max(time)));
                let entry = Entry { chunk, row, time };
                let key = encoded.row(row);
                match state.latest.get_mut(key.as_ref()) {
                    Some(existing) if existing.time > time => {}
                    Some(existing) => *existing = entry,
                    None => {
                        state.latest.insert(key.as_ref().into(), entry);
                    }
                }
            }
        }
        drop(state);
        if self.read().chunks.len() > MAX_CHUNKS {
            self.compact()?;
        }
        Ok(())
    }

    /// Keeps only the latest rows, in one batch.
    fn compact(&self) -> Result<()> {
        let mut state = self.write();
        let entries: Vec<(Box<[u8]>, Entry)> = state.latest.drain().collect();
        let picks: Vec<(usize, usize)> = entries.iter().map(|(_, e)| (e.chunk, e.row)).collect();
        let chunks: Vec<&RecordBatch> = state.chunks.iter().collect();
        let batch = if chunks.is_empty() {
            RecordBatch::new_empty(self.schema.clone())
        } else {
            interleave_record_batch(&chunks, &picks)?
        };
        state.latest = entries
            .into_iter()
            .enumerate()
            .map(|(row, (key, e))| {
                (
                    key,
                    Entry {
                        chunk: 0,
                        row,
                        time: e.time,
                    },
                )
            })
            .collect();
        state.chunks = vec![batch];
        Ok(())
    }

    /// The latest row of the entity `key`, unless it is older than the TTL at `now` (ns).
    pub fn lookup(&self, key: &[ScalarValue], now: i64) -> Result<Option<RecordBatch>> {
        if key.len() != self.key_types.len() {
            return Err(SqlError::new(
                sqlstate::INVALID_PARAMETER_VALUE,
                format!(
                    "feature view {} is keyed by ({}): give {} key value(s)",
                    self.view.name,
                    self.view.entity.join(", "),
                    self.key_types.len()
                ),
            )
            .into_datafusion());
        }
        if key.iter().any(ScalarValue::is_null) {
            return Ok(None);
        }
        let keys = key
            .iter()
            .zip(&self.key_types)
            .map(|(value, data_type)| {
                let array = value.to_array()?;
                cast(&array, data_type).map_err(|_| {
                    SqlError::new(
                        sqlstate::DATATYPE_MISMATCH,
                        format!(
                            "feature view {}: key value {value} is not a {data_type}",
                            self.view.name
                        ),
                    )
                    .into_datafusion()
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let encoded = self.converter.convert_columns(&keys)?;
        let state = self.read();
        let Some(entry) = state.latest.get(encoded.row(0).as_ref()) else {
            return Ok(None);
        };
        if let Some(ttl) = &self.view.ttl
            && entry.time <= now.saturating_sub(ttl.nanos)
        {
            return Ok(None);
        }
        Ok(Some(state.chunks[entry.chunk].slice(entry.row, 1)))
    }
}

impl OnlineIndex {
    /// Every entity's latest row that has not expired at `now` (ns).
    pub fn latest_rows(&self, now: i64) -> Result<RecordBatch> {
        let cutoff = self
            .view
            .ttl
            .as_ref()
            .map(|ttl| now.saturating_sub(ttl.nanos));
        let state = self.read();
        let picks: Vec<(usize, usize)> = state
            .latest
            .values()
            .filter(|e| cutoff.is_none_or(|cutoff| e.time > cutoff))
            .map(|e| (e.chunk, e.row))
            .collect();
        if picks.is_empty() {
            return Ok(RecordBatch::new_empty(self.schema.clone()));
        }
        let chunks: Vec<&RecordBatch> = state.chunks.iter().collect();
        Ok(interleave_record_batch(&chunks, &picks)?)
    }
}

impl TableWatcher for OnlineIndex {
    fn appended(&self, batches: &[RecordBatch]) {
        if let Err(e) = self.add(batches) {
            tracing::warn!("online index of {}: {e}; rebuilding it", self.view.name);
            self.write().stale = true;
        }
    }

    fn rewritten(&self) {
        self.write().stale = true;
    }
}

impl std::fmt::Debug for OnlineIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OnlineIndex({})", self.view.name)
    }
}
