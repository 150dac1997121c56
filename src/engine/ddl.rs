//! DDL with durable effects: tables become Delta tables, schemas become directories, and views
//! and external tables keep their defining SQL so they return after a restart.

use std::any::Any;
use std::sync::Arc;

use datafusion::catalog::{MemorySchemaProvider, SchemaProvider, TableProvider};
use datafusion::common::{ResolvedTableReference, SchemaReference, TableReference};
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::logical_expr::{
    CreateCatalogSchema, CreateMemoryTable, DdlStatement, DropCatalogSchema, DropTable, LogicalPlan,
};
use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast;

use super::{CATALOG, CommandTag, DEFAULT_SCHEMA, Engine};
use crate::error::{SqlError, sqlstate};
use crate::storage::DurableTable;

const WRONG_OBJECT_TYPE: &str = "42809";
const INSUFFICIENT_PRIVILEGE: &str = "42501";

pub(super) async fn execute(
    engine: &Engine,
    statement: &Statement,
    ddl: DdlStatement,
    save_definitions: bool,
) -> Result<CommandTag> {
    match ddl {
        DdlStatement::CreateMemoryTable(create) => create_table(engine, statement, create).await,
        DdlStatement::DropTable(drop) => drop_table(engine, drop).await,
        DdlStatement::CreateCatalogSchema(create) => create_schema(engine, create),
        DdlStatement::DropCatalogSchema(drop) => drop_schema(engine, drop).await,
        DdlStatement::CreateView(ref view) => {
            let name = view.name.clone();
            run_in_datafusion(engine, ddl).await?;
            remember_definition(engine, &name, statement, save_definitions)?;
            Ok(CommandTag::new("CREATE VIEW"))
        }
        DdlStatement::CreateExternalTable(ref external) => {
            let name = external.name.clone();
            run_in_datafusion(engine, ddl).await?;
            remember_definition(engine, &name, statement, save_definitions)?;
            Ok(CommandTag::new("CREATE EXTERNAL TABLE"))
        }
        DdlStatement::DropView(ref drop) => {
            let resolved = resolve(&drop.name)?;
            run_in_datafusion(engine, ddl).await?;
            engine
                .storage()
                .remove_definition(&resolved.schema, &resolved.table)?;
            Ok(CommandTag::new("DROP VIEW"))
        }
        other => {
            let command = match &other {
                DdlStatement::CreateIndex(_) => "CREATE INDEX",
                DdlStatement::CreateFunction(_) => "CREATE FUNCTION",
                DdlStatement::DropFunction(_) => "DROP FUNCTION",
                DdlStatement::CreateCatalog(_) => "CREATE DATABASE",
                _ => "OK",
            };
            run_in_datafusion(engine, other).await?;
            Ok(CommandTag::new(command))
        }
    }
}

async fn run_in_datafusion(engine: &Engine, ddl: DdlStatement) -> Result<()> {
    engine
        .session_context()
        .execute_logical_plan(LogicalPlan::Ddl(ddl))
        .await?
        .collect()
        .await?;
    Ok(())
}

fn remember_definition(
    engine: &Engine,
    name: &TableReference,
    statement: &Statement,
    save: bool,
) -> Result<()> {
    let resolved = resolve(name)?;
    if save && engine.storage().schema_exists(&resolved.schema) {
        engine.storage().save_definition(
            &resolved.schema,
            &resolved.table,
            &statement.to_string(),
        )?;
    }
    Ok(())
}

fn resolve(name: &TableReference) -> Result<ResolvedTableReference> {
    let resolved = name.clone().resolve(CATALOG, DEFAULT_SCHEMA);
    if resolved.catalog.as_ref() != CATALOG {
        return Err(SqlError::new(
            sqlstate::FEATURE_NOT_SUPPORTED,
            format!(
                "cross-database references are not implemented: {name} (the database is {CATALOG})"
            ),
        )
        .into_datafusion());
    }
    Ok(resolved)
}

/// The schema a durable table may be created in: it must exist on disk, which the system schemas
/// (`pg_catalog`, `information_schema`) do not.
fn durable_schema(engine: &Engine, schema: &str) -> Result<Arc<dyn SchemaProvider>> {
    let provider = engine
        .session_context()
        .catalog(CATALOG)
        .and_then(|catalog| catalog.schema(schema));
    match provider {
        Some(provider) if engine.storage().schema_exists(schema) => Ok(provider),
        Some(_) => Err(SqlError::new(
            INSUFFICIENT_PRIVILEGE,
            format!(
                "schema \"{schema}\" is a system schema; tables cannot be created or dropped in it"
            ),
        )
        .into_datafusion()),
        None => Err(SqlError::new(
            sqlstate::UNDEFINED_SCHEMA,
            format!("schema \"{schema}\" does not exist; create it with CREATE SCHEMA {schema}"),
        )
        .into_datafusion()),
    }
}

fn as_durable(provider: &Arc<dyn TableProvider>) -> Option<&DurableTable> {
    (provider.as_ref() as &dyn Any).downcast_ref::<DurableTable>()
}

/// A feature view's table changes only through the feature view statements, which keep its
/// definition and online index in step with it.
fn refuse_feature_view(
    engine: &Engine,
    resolved: &ResolvedTableReference,
    statement: &str,
) -> Result<()> {
    if resolved.schema.as_ref() == crate::engine::DEFAULT_SCHEMA
        && engine.features()?.get(&resolved.table).is_ok()
    {
        return Err(SqlError::new(
            WRONG_OBJECT_TYPE,
            format!("\"{}\" is a feature view; use {statement}", resolved.table),
        )
        .into_datafusion());
    }
    Ok(())
}

async fn create_table(
    engine: &Engine,
    statement: &Statement,
    create: CreateMemoryTable,
) -> Result<CommandTag> {
    if create.temporary {
        return Err(SqlError::new(
            sqlstate::FEATURE_NOT_SUPPORTED,
            "temporary tables are not supported; create a regular table and drop it when done",
        )
        .into_datafusion());
    }
    let resolved = resolve(&create.name)?;
    let schema_provider = durable_schema(engine, &resolved.schema)?;
    let existing = schema_provider.table(&resolved.table).await?;
    if let Some(existing) = &existing {
        if !create.if_not_exists {
            refuse_feature_view(engine, &resolved, "CREATE OR REPLACE FEATURE VIEW")?;
        }
        if create.if_not_exists {
            return Ok(CommandTag::new("CREATE TABLE"));
        }
        if !create.or_replace {
            return Err(SqlError::new(
                sqlstate::DUPLICATE_TABLE,
                format!("relation \"{}\" already exists", resolved.table),
            )
            .into_datafusion());
        }
        if as_durable(existing).is_none() {
            return Err(SqlError::new(
                WRONG_OBJECT_TYPE,
                format!(
                    "\"{}\" is not a table, so it cannot be replaced",
                    resolved.table
                ),
            )
            .into_datafusion());
        }
    }
    let frame = engine
        .session_context()
        .execute_logical_plan(Arc::unwrap_or_clone(create.input))
        .await?;
    let schema = frame.schema().as_arrow().clone();
    let batches = frame.collect().await?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let store = engine
        .storage()
        .create_table(
            &resolved.schema,
            &resolved.table,
            &schema,
            batches,
            existing.is_some(),
        )
        .await?;
    let provider = DurableTable::new(store).with_definition(
        create.constraints,
        create.column_defaults.into_iter().collect(),
    );
    if existing.is_some() {
        schema_provider.deregister_table(&resolved.table)?;
    }
    schema_provider.register_table(resolved.table.to_string(), Arc::new(provider))?;
    let is_create_as = matches!(
        statement,
        Statement::Statement(s) if matches!(s.as_ref(), ast::Statement::CreateTable(t) if t.query.is_some())
    );
    Ok(if is_create_as {
        CommandTag::new("SELECT").with_rows(rows as u64)
    } else {
        CommandTag::new("CREATE TABLE")
    })
}

async fn drop_table(engine: &Engine, drop: DropTable) -> Result<CommandTag> {
    let resolved = resolve(&drop.name)?;
    let missing = || {
        SqlError::new(
            sqlstate::UNDEFINED_TABLE,
            format!("table \"{}\" does not exist", resolved.table),
        )
        .into_datafusion()
    };
    let schema_provider = match durable_schema(engine, &resolved.schema) {
        Ok(provider) => provider,
        Err(_) if drop.if_exists => return Ok(CommandTag::new("DROP TABLE")),
        Err(e) => return Err(e),
    };
    let Some(provider) = schema_provider.table(&resolved.table).await? else {
        return if drop.if_exists {
            Ok(CommandTag::new("DROP TABLE"))
        } else {
            Err(missing())
        };
    };
    refuse_feature_view(engine, &resolved, "DROP FEATURE VIEW")?;
    if as_durable(&provider).is_some() {
        engine
            .storage()
            .drop_table(&resolved.schema, &resolved.table)?;
    } else if provider.table_type() == TableType::View {
        return Err(SqlError::new(
            WRONG_OBJECT_TYPE,
            format!("\"{}\" is a view; use DROP VIEW", resolved.table),
        )
        .into_datafusion());
    } else {
        engine
            .storage()
            .remove_definition(&resolved.schema, &resolved.table)?;
    }
    schema_provider.deregister_table(&resolved.table)?;
    Ok(CommandTag::new("DROP TABLE"))
}

fn split_schema_name(name: &str) -> Result<&str> {
    match name.split_once('.') {
        None => Ok(name),
        Some((catalog, schema)) if catalog == CATALOG => Ok(schema),
        Some((catalog, _)) => Err(SqlError::new(
            sqlstate::FEATURE_NOT_SUPPORTED,
            format!("cross-database references are not implemented: {catalog}"),
        )
        .into_datafusion()),
    }
}

fn create_schema(engine: &Engine, create: CreateCatalogSchema) -> Result<CommandTag> {
    let schema = split_schema_name(&create.schema_name)?;
    let catalog = engine.session_context().catalog(CATALOG).ok_or_else(|| {
        SqlError::new(sqlstate::INTERNAL_ERROR, "the catalog is missing").into_datafusion()
    })?;
    if catalog.schema(schema).is_some() {
        if create.if_not_exists {
            return Ok(CommandTag::new("CREATE SCHEMA"));
        }
        return Err(SqlError::new(
            sqlstate::DUPLICATE_SCHEMA,
            format!("schema \"{schema}\" already exists"),
        )
        .into_datafusion());
    }
    engine.storage().create_schema(schema)?;
    catalog.register_schema(schema, Arc::new(MemorySchemaProvider::new()))?;
    Ok(CommandTag::new("CREATE SCHEMA"))
}

async fn drop_schema(engine: &Engine, drop: DropCatalogSchema) -> Result<CommandTag> {
    let schema = drop.name.schema_name().to_string();
    if let SchemaReference::Full { catalog, .. } = &drop.name
        && catalog.as_ref() != CATALOG
    {
        return Err(SqlError::new(
            sqlstate::FEATURE_NOT_SUPPORTED,
            format!("cross-database references are not implemented: {catalog}"),
        )
        .into_datafusion());
    }
    let catalog = engine.session_context().catalog(CATALOG).ok_or_else(|| {
        SqlError::new(sqlstate::INTERNAL_ERROR, "the catalog is missing").into_datafusion()
    })?;
    let Some(provider) = catalog.schema(&schema) else {
        return if drop.if_exists {
            Ok(CommandTag::new("DROP SCHEMA"))
        } else {
            Err(SqlError::new(
                sqlstate::UNDEFINED_SCHEMA,
                format!("schema \"{schema}\" does not exist"),
            )
            .into_datafusion())
        };
    };
    if !engine.storage().schema_exists(&schema) {
        return Err(SqlError::new(
            INSUFFICIENT_PRIVILEGE,
            format!("schema \"{schema}\" is a system schema and cannot be dropped"),
        )
        .into_datafusion());
    }
    let mut contents = provider.table_names();
    if !contents.is_empty() && !drop.cascade {
        contents.sort();
        return Err(SqlError::new(
            sqlstate::DEPENDENT_OBJECTS_STILL_EXIST,
            format!(
                "cannot drop schema \"{schema}\" because it contains {}; use DROP SCHEMA {schema} CASCADE",
                contents.join(", ")
            ),
        )
        .into_datafusion());
    }
    engine.storage().drop_schema(&schema)?;
    catalog.deregister_schema(&schema, true)?;
    Ok(CommandTag::new("DROP SCHEMA"))
}
