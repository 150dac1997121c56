//! The registry as tables any client can query: `ml.models` and `ml.model_versions` are views
//! of the registry's current state (replayed from `ml.model_events`); the Delta tables behind
//! `ml.model_events`, `ml.runs` and `ml.run_metrics` are exposed read-only.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{
    ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;

use super::registry::{Registry, Stage};
use super::utc_timestamp;
use crate::storage::DurableTable;

/// A durable table users may read but not change: the registry writes it.
#[derive(Debug)]
pub struct ReadOnly(pub DurableTable);

#[async_trait]
impl TableProvider for ReadOnly {
    fn schema(&self) -> SchemaRef {
        self.0.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.0.scan(state, projection, filters, limit).await
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        self.0.supports_filters_pushdown(filters)
    }
}

#[derive(Debug, Clone, Copy)]
pub enum RegistryView {
    Models,
    ModelVersions,
}

/// `ml.models` or `ml.model_versions`, computed from the registry when scanned.
pub struct RegistryTable {
    pub registry: Arc<Registry>,
    pub view: RegistryView,
}

impl std::fmt::Debug for RegistryTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RegistryTable({:?})", self.view)
    }
}

impl RegistryTable {
    fn batch(&self) -> Result<RecordBatch> {
        let versions = self.registry.versions();
        let text = |values: Vec<String>| -> ArrayRef { Arc::new(StringArray::from(values)) };
        let stamps = |values: Vec<i64>| -> ArrayRef {
            Arc::new(TimestampMicrosecondArray::from(values).with_timezone("UTC"))
        };
        let columns: Vec<ArrayRef> = match self.view {
            RegistryView::ModelVersions => vec![
                text(versions.iter().map(|(r, _)| r.model.clone()).collect()),
                Arc::new(Int64Array::from_iter_values(
                    versions.iter().map(|(r, _)| r.version),
                )),
                text(versions.iter().map(|(_, s)| s.name().to_string()).collect()),
                text(
                    versions
                        .iter()
                        .map(|(r, _)| r.model_type.name().to_string())
                        .collect(),
                ),
                text(
                    versions
                        .iter()
                        .map(|(r, _)| r.digests.weights.clone())
                        .collect(),
                ),
                stamps(
                    versions
                        .iter()
                        .map(|(r, _)| r.created_at.timestamp_micros())
                        .collect(),
                ),
                text(versions.iter().map(|(r, _)| r.created_by.clone()).collect()),
                text(versions.iter().map(|(r, _)| r.label.clone()).collect()),
                text(
                    versions
                        .iter()
                        .map(|(r, _)| {
                            r.features
                                .iter()
                                .map(|(name, t)| format!("{name} {}", t.sql_name()))
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                        .collect(),
                ),
                text(versions.iter().map(|(r, _)| r.options.clone()).collect()),
                text(
                    versions
                        .iter()
                        .map(|(r, _)| serde_json::to_string(&r.metrics).unwrap_or_default())
                        .collect(),
                ),
                Arc::new(StringArray::from(
                    versions
                        .iter()
                        .map(|(r, _)| r.run_id.clone())
                        .collect::<Vec<_>>(),
                )),
                Arc::new(Int64Array::from_iter_values(
                    versions.iter().map(|(r, _)| r.training_rows),
                )),
                text(versions.iter().map(|(r, _)| r.source.clone()).collect()),
            ],
            RegistryView::Models => {
                let mut names: Vec<String> =
                    versions.iter().map(|(r, _)| r.model.clone()).collect();
                names.sort();
                names.dedup();
                let of = |name: &String| {
                    let name = name.clone();
                    versions.iter().filter(move |(r, _)| r.model == name)
                };
                let stage_version = |name: &String, stage: Stage| {
                    of(name)
                        .filter(|(_, s)| *s == stage)
                        .map(|(r, _)| r.version)
                        .max()
                };
                let latest = |name: &String| of(name).max_by_key(|(r, _)| r.version);
                vec![
                    text(names.clone()),
                    Arc::new(Int64Array::from_iter_values(
                        names.iter().map(|n| of(n).count() as i64),
                    )),
                    Arc::new(Int64Array::from_iter(
                        names.iter().map(|n| latest(n).map(|(r, _)| r.version)),
                    )),
                    Arc::new(Int64Array::from_iter(
                        names.iter().map(|n| stage_version(n, Stage::Production)),
                    )),
                    Arc::new(Int64Array::from_iter(
                        names.iter().map(|n| stage_version(n, Stage::Staging)),
                    )),
                    text(
                        names
                            .iter()
                            .map(|n| {
                                latest(n)
                                    .map(|(r, _)| r.model_type.name().to_string())
                                    .unwrap_or_default()
                            })
                            .collect(),
                    ),
                    stamps(
                        names
                            .iter()
                            .map(|n| {
                                of(n)
                                    .map(|(r, _)| r.created_at.timestamp_micros())
                                    .min()
                                    .unwrap_or(0)
                            })
                            .collect(),
                    ),
                    stamps(
                        names
                            .iter()
                            .map(|n| {
                                of(n)
                                    .map(|(r, _)| r.created_at.timestamp_micros())
                                    .max()
                                    .unwrap_or(0)
                            })
                            .collect(),
                    ),
                ]
            }
        };
        Ok(RecordBatch::try_new(self.schema(), columns)?)
    }
}

pub fn models_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("versions", DataType::Int64, false),
        Field::new("latest_version", DataType::Int64, true),
        Field::new("production_version", DataType::Int64, true),
        Field::new("staging_version", DataType::Int64, true),
        Field::new("model_type", DataType::Utf8, false),
        Field::new("created_at", utc_timestamp(), false),
        Field::new("updated_at", utc_timestamp(), false),
    ]))
}

#[async_trait]
impl TableProvider for RegistryTable {
    fn schema(&self) -> SchemaRef {
        let fields = match self.view {
            RegistryView::ModelVersions => vec![
                Field::new("model", DataType::Utf8, false),
                Field::new("version", DataType::Int64, false),
                Field::new("stage", DataType::Utf8, false),
                Field::new("model_type", DataType::Utf8, false),
                Field::new("sha256", DataType::Utf8, false),
                Field::new("created_at", utc_timestamp(), false),
                Field::new("created_by", DataType::Utf8, false),
                Field::new("label", DataType::Utf8, false),
                Field::new("features", DataType::Utf8, false),
                Field::new("options", DataType::Utf8, false),
                Field::new("metrics", DataType::Utf8, false),
                Field::new("run_id", DataType::Utf8, true),
                Field::new("training_rows", DataType::Int64, false),
                Field::new("source", DataType::Utf8, false),
            ],
            RegistryView::Models => return models_schema(),
        };
        Arc::new(Schema::new(fields))
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let batch = self.batch()?;
        Ok(MemorySourceConfig::try_new_exec(
            &[vec![batch]],
            self.schema(),
            projection.cloned(),
        )?)
    }
}
