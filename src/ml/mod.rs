//! Models in SQL: training (`CREATE MODEL`), the registry, and scoring inside query plans.

pub mod encoding;
pub mod model;

use datafusion::error::DataFusionError;

use crate::error::{SqlError, sqlstate};

/// A failure in training, loading or scoring a model, with the SQLSTATE a client should see.
#[derive(Debug, thiserror::Error)]
pub enum MlError {
    /// Bad options, data or model files: 22023.
    #[error("{0}")]
    Invalid(String),
    /// No such model or version: 42704.
    #[error("{0}")]
    UndefinedModel(String),
    /// The model exists already: 42710.
    #[error("{0}")]
    DuplicateModel(String),
    /// An artifact whose digest no longer matches the registry: XX001.
    #[error("{0}")]
    Corrupted(String),
    /// A column the statement names is missing: 42703.
    #[error("{0}")]
    UndefinedColumn(String),
    /// The statement was cancelled: 57014.
    #[error("{0}")]
    Canceled(String),
    #[error("tensor computation failed: {0}")]
    Candle(#[from] candle_core::Error),
    #[error("model files: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    DataFusion(#[from] DataFusionError),
}

impl MlError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }

    pub fn into_datafusion(self) -> DataFusionError {
        let code = match &self {
            Self::Invalid(_) => sqlstate::INVALID_PARAMETER_VALUE,
            Self::UndefinedModel(_) => sqlstate::UNDEFINED_OBJECT,
            Self::DuplicateModel(_) => sqlstate::DUPLICATE_OBJECT,
            Self::Corrupted(_) => sqlstate::DATA_CORRUPTED,
            Self::Canceled(_) => sqlstate::QUERY_CANCELED,
            Self::UndefinedColumn(_) => sqlstate::UNDEFINED_COLUMN,
            Self::Candle(_) => sqlstate::INTERNAL_ERROR,
            Self::Io(_) => sqlstate::IO_ERROR,
            Self::DataFusion(_) => return self.into_inner_datafusion(),
        };
        SqlError::new(code, self.to_string()).into_datafusion()
    }

    fn into_inner_datafusion(self) -> DataFusionError {
        match self {
            Self::DataFusion(e) => e,
            other => other.into_datafusion(),
        }
    }
}

impl From<MlError> for DataFusionError {
    fn from(error: MlError) -> Self {
        error.into_datafusion()
    }
}

pub mod create;
pub mod execute;
pub mod import;
pub mod linalg;
pub mod metrics;
pub mod model_drift;
pub mod newton;
pub mod options;
pub mod predict;
pub mod profile;
pub mod registry;
pub mod runs;
pub mod scoring;
pub mod session;
pub mod statement;
pub mod system_tables;
pub mod table_functions;
pub mod train;

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::MemorySchemaProvider;
use datafusion::prelude::SessionContext;

use crate::data_dir::DataDir;
use crate::storage::{DurableTable, Storage, TableStore};
use registry::Registry;
use runs::Runs;
use system_tables::{ReadOnly, RegistryTable, RegistryView};

/// The type of the registry's timestamps: UTC instants in microseconds, as Delta stores them.
pub fn utc_timestamp() -> datafusion::arrow::datatypes::DataType {
    datafusion::arrow::datatypes::DataType::Timestamp(
        datafusion::arrow::datatypes::TimeUnit::Microsecond,
        Some("UTC".into()),
    )
}

/// The schema holding the registry and experiment-tracking tables.
pub const ML_SCHEMA: &str = "ml";

/// The model registry, experiment tracking, and the functions that score with them.
pub struct Ml {
    pub registry: Arc<Registry>,
    pub runs: Runs,
}

impl Ml {
    /// Opens (creating on first start) the `ml` tables, replays the registry, and registers
    /// the system tables and model functions on `ctx`.
    pub async fn open(
        ctx: &SessionContext,
        storage: &Storage,
        data_dir: &DataDir,
    ) -> Result<Self, MlError> {
        storage.create_schema(ML_SCHEMA)?;
        let catalog = ctx
            .catalog(crate::engine::CATALOG)
            .ok_or_else(|| MlError::invalid("the session has no default catalog"))?;
        let schema = match catalog.schema(ML_SCHEMA) {
            Some(schema) => schema,
            None => {
                let schema = Arc::new(MemorySchemaProvider::new());
                catalog.register_schema(ML_SCHEMA, schema.clone())?;
                schema
            }
        };
        let mut stores = Vec::new();
        for (name, table_schema) in [
            ("model_events", registry::events_schema()),
            ("runs", runs::runs_schema()),
            ("run_metrics", runs::run_metrics_schema()),
        ] {
            let store = open_table(storage, schema.as_ref(), name, &table_schema).await?;
            schema.deregister_table(name)?;
            schema.register_table(
                name.to_string(),
                Arc::new(ReadOnly(DurableTable::new(Arc::clone(&store)))),
            )?;
            stores.push(store);
        }
        let events = ctx
            .sql("SELECT * FROM ml.model_events ORDER BY seq")
            .await?
            .collect()
            .await?;
        let registry = Arc::new(Registry::replay(
            data_dir.root().join("models"),
            Arc::clone(&stores[0]),
            &events,
        )?);
        for (name, view) in [
            ("models", RegistryView::Models),
            ("model_versions", RegistryView::ModelVersions),
        ] {
            schema.deregister_table(name)?;
            schema.register_table(
                name.to_string(),
                Arc::new(RegistryTable {
                    registry: Arc::clone(&registry),
                    view,
                }),
            )?;
        }
        ctx.register_udf(predict::predict_udf(Arc::clone(&registry)));
        ctx.register_udf(predict::predict_proba_udf(Arc::clone(&registry)));
        ctx.register_udtf(
            "ml_predict",
            Arc::new(table_functions::MlPredict {
                registry: Arc::clone(&registry),
            }),
        );
        ctx.register_udtf(
            "model_drift",
            Arc::new(model_drift::ModelDrift {
                registry: Arc::clone(&registry),
            }),
        );
        ctx.register_udtf(
            "ml_evaluate",
            Arc::new(table_functions::MlEvaluate {
                registry: Arc::clone(&registry),
            }),
        );
        let metrics = stores
            .pop()
            .ok_or_else(|| MlError::invalid("run_metrics table missing"))?;
        let runs = stores
            .pop()
            .ok_or_else(|| MlError::invalid("runs table missing"))?;
        Ok(Self {
            registry,
            runs: Runs { runs, metrics },
        })
    }
}

/// The table's store: loaded from disk with the catalog, or created empty on first start.
async fn open_table(
    storage: &Storage,
    schema: &dyn datafusion::catalog::SchemaProvider,
    name: &str,
    table_schema: &SchemaRef,
) -> Result<Arc<TableStore>, MlError> {
    if let Some(provider) = schema.table(name).await?
        && let Some(table) =
            (provider.as_ref() as &dyn std::any::Any).downcast_ref::<DurableTable>()
    {
        return Ok(Arc::clone(table.store()));
    }
    Ok(storage
        .create_table(ML_SCHEMA, name, table_schema, vec![], false)
        .await?)
}
