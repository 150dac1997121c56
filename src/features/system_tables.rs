//! `ml.feature_views` and `ml.feature_freshness`, computed from the feature store when scanned.

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
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

use super::statement::ViewSource;
use super::store::FeatureStore;
use crate::ml::utc_timestamp;

#[derive(Debug, Clone, Copy)]
pub enum FeatureTable {
    Views,
    Freshness,
}

#[derive(Debug)]
pub struct FeatureSystemTable {
    pub store: Arc<FeatureStore>,
    pub table: FeatureTable,
}

fn views_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("name", DataType::Utf8, false),
        Field::new("entity", DataType::Utf8, false),
        Field::new("timestamp_column", DataType::Utf8, false),
        Field::new("created_column", DataType::Utf8, true),
        Field::new("ttl", DataType::Utf8, true),
        Field::new("ttl_seconds", DataType::Int64, true),
        Field::new("query", DataType::Utf8, false),
        Field::new("source_table", DataType::Utf8, true),
        Field::new("owner", DataType::Utf8, false),
        Field::new("created_at", utc_timestamp(), false),
        Field::new("last_refreshed", utc_timestamp(), false),
        Field::new("row_count", DataType::Int64, false),
    ]))
}

fn freshness_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("name", DataType::Utf8, false),
        Field::new("newest_timestamp", utc_timestamp(), true),
        Field::new("age_seconds", DataType::Float64, true),
        Field::new("ttl_seconds", DataType::Int64, true),
        Field::new("expired", DataType::Boolean, true),
        Field::new("last_refreshed", utc_timestamp(), false),
        Field::new("row_count", DataType::Int64, false),
    ]))
}

fn stamps(values: Vec<Option<i64>>) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from(values).with_timezone("UTC"))
}

impl FeatureSystemTable {
    fn batch(&self) -> Result<RecordBatch> {
        let views = self.store.views();
        let text = |f: &dyn Fn(&super::view::FeatureView) -> Option<String>| -> ArrayRef {
            Arc::new(StringArray::from(
                views.iter().map(|i| f(i.view())).collect::<Vec<_>>(),
            ))
        };
        let ttl_seconds: ArrayRef = Arc::new(Int64Array::from(
            views
                .iter()
                .map(|i| i.view().ttl.as_ref().map(|t| t.nanos / 1_000_000_000))
                .collect::<Vec<_>>(),
        ));
        let refreshed = stamps(
            views
                .iter()
                .map(|i| Some(i.view().refreshed_at.timestamp_micros()))
                .collect(),
        );
        let rows: ArrayRef = Arc::new(Int64Array::from_iter_values(
            views.iter().map(|i| i.freshness().rows as i64),
        ));
        let names = text(&|v| Some(v.name.clone()));
        let columns: Vec<ArrayRef> = match self.table {
            FeatureTable::Views => vec![
                names,
                text(&|v| Some(v.entity.join(", "))),
                text(&|v| Some(v.timestamp.clone())),
                text(&|v| v.created.clone()),
                text(&|v| v.ttl.as_ref().map(|t| t.text.clone())),
                ttl_seconds,
                text(&|v| Some(v.query())),
                text(&|v| match &v.source {
                    ViewSource::Table(table) => Some(table.clone()),
                    ViewSource::Query(_) => None,
                }),
                text(&|v| Some(v.owner.clone())),
                stamps(
                    views
                        .iter()
                        .map(|i| Some(i.view().created_at.timestamp_micros()))
                        .collect(),
                ),
                refreshed,
                rows,
            ],
            FeatureTable::Freshness => {
                let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX);
                let newest: Vec<Option<i64>> = views.iter().map(|i| i.freshness().newest).collect();
                let age: Vec<Option<f64>> = newest
                    .iter()
                    .map(|n| n.map(|n| now.saturating_sub(n) as f64 / 1e9))
                    .collect();
                let expired: Vec<Option<bool>> = views
                    .iter()
                    .zip(&newest)
                    .map(|(i, n)| {
                        let ttl = i.view().ttl.as_ref()?;
                        Some(n.is_none_or(|n| n <= now.saturating_sub(ttl.nanos)))
                    })
                    .collect();
                vec![
                    names,
                    stamps(
                        newest
                            .iter()
                            .map(|n| n.map(|n| n.div_euclid(1000)))
                            .collect(),
                    ),
                    Arc::new(datafusion::arrow::array::Float64Array::from(age)),
                    ttl_seconds,
                    Arc::new(datafusion::arrow::array::BooleanArray::from(expired)),
                    refreshed,
                    rows,
                ]
            }
        };
        Ok(RecordBatch::try_new(self.schema(), columns)?)
    }
}

#[async_trait]
impl TableProvider for FeatureSystemTable {
    fn schema(&self) -> SchemaRef {
        match self.table {
            FeatureTable::Views => views_schema(),
            FeatureTable::Freshness => freshness_schema(),
        }
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
        Ok(MemorySourceConfig::try_new_exec(
            &[vec![self.batch()?]],
            self.schema(),
            projection.cloned(),
        )?)
    }
}
