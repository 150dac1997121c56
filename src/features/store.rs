//! The feature views of a data directory: each is a durable table in `public` holding the
//! view's query result, a definition in `<data>/features/views.json`, and an online index.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock, Weak};

use chrono::Utc;
use datafusion::catalog::{CatalogProviderList, SchemaProvider, TableProvider};
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionContext;

use super::online::OnlineIndex;
use super::statement::FeatureViewStatement;
use super::view::{FeatureView, Ttl, ViewFile};
use crate::engine::{CATALOG, CommandTag, DEFAULT_SCHEMA, Engine};
use crate::error::{SqlError, sqlstate};
use crate::ml::session;
use crate::storage::{DurableTable, TableWatcher};

pub struct FeatureStore {
    file: ViewFile,
    views: RwLock<BTreeMap<String, Arc<OnlineIndex>>>,
    /// One definition change at a time, so the file always matches the tables.
    changes: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for FeatureStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FeatureStore")
    }
}

fn public_schema(ctx: &SessionContext) -> Result<Arc<dyn SchemaProvider>> {
    ctx.catalog(CATALOG)
        .and_then(|c| c.schema(DEFAULT_SCHEMA))
        .ok_or_else(|| DataFusionError::Internal("the public schema is missing".into()))
}

/// A table of the public schema, as `catalogs` resolve it now.
pub(super) async fn public_table(
    catalogs: &dyn CatalogProviderList,
    name: &str,
) -> Result<Option<Arc<dyn TableProvider>>> {
    match catalogs
        .catalog(CATALOG)
        .and_then(|c| c.schema(DEFAULT_SCHEMA))
    {
        Some(schema) => schema.table(name).await,
        None => Ok(None),
    }
}

/// The error for a feature view whose table was removed behind its back.
pub(super) fn table_gone(name: &str) -> DataFusionError {
    SqlError::new(
        sqlstate::UNDEFINED_TABLE,
        format!("the table of feature view \"{name}\" is gone"),
    )
    .into_datafusion()
}

fn undefined(name: &str) -> DataFusionError {
    SqlError::new(
        sqlstate::UNDEFINED_OBJECT,
        format!("feature view \"{name}\" does not exist"),
    )
    .into_datafusion()
}

impl FeatureStore {
    /// Loads the definitions and rebuilds each view's online index from its table.
    pub async fn open(engine: &Engine) -> Result<Self> {
        let store = Self {
            file: ViewFile::new(engine.data_dir()),
            views: RwLock::new(BTreeMap::new()),
            changes: tokio::sync::Mutex::new(()),
        };
        for view in store.file.load()? {
            match store
                .index_table(engine.session_context(), view.clone())
                .await
            {
                Ok(index) => store.insert(index),
                Err(e) => tracing::warn!("feature view {} is unavailable: {e}", view.name),
            }
        }
        Ok(store)
    }

    fn insert(&self, index: Arc<OnlineIndex>) {
        self.write().insert(index.view().name.clone(), index);
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<OnlineIndex>>> {
        self.views.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Every view, by name.
    pub fn views(&self) -> Vec<Arc<OnlineIndex>> {
        self.views
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    pub fn get(&self, name: &str) -> Result<Arc<OnlineIndex>> {
        self.views
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
            .ok_or_else(|| undefined(name))
    }

    /// The view's online index, rebuilt first if rows changed in place since it was built.
    pub async fn current(&self, ctx: &SessionContext, name: &str) -> Result<Arc<OnlineIndex>> {
        let index = self.get(name)?;
        if !index.is_stale() {
            return Ok(index);
        }
        let _change = self.changes.lock().await;
        let index = self.get(name)?;
        if !index.is_stale() {
            return Ok(index);
        }
        let rebuilt = self.index_table(ctx, index.view().clone()).await?;
        self.insert(Arc::clone(&rebuilt));
        Ok(rebuilt)
    }

    /// Builds the online index of a view from its table, and has it follow the table.
    async fn index_table(
        &self,
        ctx: &SessionContext,
        view: FeatureView,
    ) -> Result<Arc<OnlineIndex>> {
        let provider = public_schema(ctx)?
            .table(&view.name)
            .await?
            .ok_or_else(|| table_gone(&view.name))?;
        let batches = ctx.read_table(Arc::clone(&provider))?.collect().await?;
        let index = Arc::new(OnlineIndex::build(view, provider.schema(), &batches)?);
        if let Some(table) =
            (provider.as_ref() as &dyn std::any::Any).downcast_ref::<DurableTable>()
        {
            table
                .store()
                .watch(Arc::downgrade(&index) as Weak<dyn TableWatcher>);
        }
        Ok(index)
    }

    /// Runs the view's query into its table (replacing the table's rows in one commit).
    async fn materialize(
        &self,
        engine: &Engine,
        view: FeatureView,
        replace: bool,
    ) -> Result<Arc<OnlineIndex>> {
        let frame = engine.select_frame(&view.query()).await?;
        let schema = frame.schema().as_arrow().clone();
        view.check_schema(&schema)?;
        let batches = frame.collect().await?;
        let store = engine
            .storage()
            .create_table(
                DEFAULT_SCHEMA,
                &view.name,
                &schema,
                batches.clone(),
                replace,
            )
            .await?;
        let provider = DurableTable::new(Arc::clone(&store));
        let index = Arc::new(OnlineIndex::build(view, provider.schema(), &batches)?);
        store.watch(Arc::downgrade(&index) as Weak<dyn TableWatcher>);
        let public = public_schema(engine.session_context())?;
        public.deregister_table(&index.view().name)?;
        public.register_table(index.view().name.clone(), Arc::new(provider))?;
        Ok(index)
    }

    fn save(&self) -> Result<()> {
        let views: Vec<FeatureView> = self.views().iter().map(|i| i.view().clone()).collect();
        self.file.save(&views)
    }

    pub async fn execute(
        &self,
        engine: &Engine,
        statement: FeatureViewStatement,
    ) -> Result<CommandTag> {
        let _change = self.changes.lock().await;
        match statement {
            FeatureViewStatement::Create {
                name,
                or_replace,
                entity,
                timestamp,
                created,
                ttl,
                source,
            } => {
                let exists = self.get(&name).is_ok();
                if exists && !or_replace {
                    return Err(SqlError::new(
                        sqlstate::DUPLICATE_OBJECT,
                        format!("feature view \"{name}\" already exists; use CREATE OR REPLACE FEATURE VIEW"),
                    )
                    .into_datafusion());
                }
                if !exists && public_schema(engine.session_context())?.table_exist(&name) {
                    return Err(SqlError::new(
                        sqlstate::DUPLICATE_TABLE,
                        format!("relation \"{name}\" already exists; a feature view needs a name of its own"),
                    )
                    .into_datafusion());
                }
                let now = Utc::now();
                let view = FeatureView {
                    name,
                    entity,
                    timestamp,
                    created,
                    ttl: ttl.as_deref().map(Ttl::parse).transpose()?,
                    source,
                    owner: session::current().actor(),
                    created_at: now,
                    refreshed_at: now,
                };
                let index = self.materialize(engine, view, exists).await?;
                self.insert(index);
                self.save()?;
                Ok(CommandTag::new("CREATE FEATURE VIEW"))
            }
            FeatureViewStatement::Refresh { name } => {
                let mut view = self.get(&name)?.view().clone();
                view.refreshed_at = Utc::now();
                let index = self.materialize(engine, view, true).await?;
                self.insert(index);
                self.save()?;
                Ok(CommandTag::new("REFRESH FEATURE VIEW"))
            }
            FeatureViewStatement::Drop { name, if_exists } => {
                if self.get(&name).is_err() {
                    return if if_exists {
                        Ok(CommandTag::new("DROP FEATURE VIEW"))
                    } else {
                        Err(undefined(&name))
                    };
                }
                engine.storage().drop_table(DEFAULT_SCHEMA, &name)?;
                public_schema(engine.session_context())?.deregister_table(&name)?;
                self.write().remove(&name);
                self.save()?;
                Ok(CommandTag::new("DROP FEATURE VIEW"))
            }
        }
    }
}
