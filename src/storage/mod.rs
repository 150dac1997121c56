//! Durable storage: schemas are directories, tables are Delta Lake tables inside them, views and
//! external tables are their defining SQL kept beside the tables.
//!
//! ```text
//! <data dir>/tables/<schema>/<table>/_delta_log/...   a durable table
//! <data dir>/tables/<schema>/<name>.definition.sql    a view or external table
//! <data dir>/trash/                                   dropped objects on their way out
//! ```

mod delta_types;
mod dml_exec;
mod durable_table;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::datatypes::Schema;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::{DataFusionError, Result};
use deltalake::DeltaTable;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::protocol::SaveMode;
use url::Url;

pub use delta_types::{conform_batch, delta_schema};
pub use durable_table::{DurableTable, TableStore, TableWatcher};

use crate::data_dir::DataDir;
use crate::error::{SqlError, sqlstate};
use durable_table::delta_error;

const DEFINITION_SUFFIX: &str = ".definition.sql";

/// A table found on disk at start-up.
pub struct StoredTable {
    pub schema: String,
    pub name: String,
    pub store: Arc<TableStore>,
}

/// A view or external table found on disk at start-up.
pub struct StoredDefinition {
    pub schema: String,
    pub name: String,
    pub sql: String,
}

/// Everything found in the data directory at start-up.
#[derive(Default)]
pub struct StoredCatalog {
    pub schemas: Vec<String>,
    pub tables: Vec<StoredTable>,
    pub definitions: Vec<StoredDefinition>,
}

#[derive(Debug, Clone)]
pub struct Storage {
    tables_root: PathBuf,
    trash_root: PathBuf,
}

impl Storage {
    pub fn new(data_dir: &DataDir) -> Self {
        Self {
            tables_root: data_dir.tables_root(),
            trash_root: data_dir.root().join("trash"),
        }
    }

    fn schema_dir(&self, schema: &str) -> PathBuf {
        self.tables_root.join(encode_name(schema))
    }

    fn table_dir(&self, schema: &str, table: &str) -> PathBuf {
        self.schema_dir(schema).join(encode_name(table))
    }

    fn definition_path(&self, schema: &str, name: &str) -> PathBuf {
        self.schema_dir(schema)
            .join(format!("{}{DEFINITION_SUFFIX}", encode_name(name)))
    }

    pub fn schema_exists(&self, schema: &str) -> bool {
        self.schema_dir(schema).is_dir()
    }

    pub fn create_schema(&self, schema: &str) -> Result<()> {
        std::fs::create_dir_all(self.schema_dir(schema)).map_err(DataFusionError::IoError)
    }

    /// Removes a schema directory and everything in it.
    pub fn drop_schema(&self, schema: &str) -> Result<()> {
        self.move_to_trash(&self.schema_dir(schema))
    }

    /// Creates a table holding `batches` in a single commit: either the whole CREATE TABLE AS
    /// SELECT is on disk, or none of it is. With `replace`, an existing table is overwritten in
    /// one commit and keeps its history.
    pub async fn create_table(
        &self,
        schema_name: &str,
        table_name: &str,
        schema: &Schema,
        batches: Vec<RecordBatch>,
        replace: bool,
    ) -> Result<Arc<TableStore>> {
        let target = delta_schema(schema).map_err(SqlError::into_datafusion)?;
        let mut rows = batches
            .iter()
            .filter(|batch| batch.num_rows() > 0)
            .map(|batch| delta_types::conform_batch(batch, &target))
            .collect::<Result<Vec<_>>>()?;
        if rows.is_empty() {
            // Delta's writer needs at least one batch to learn the schema from.
            rows.push(RecordBatch::new_empty(Arc::clone(&target)));
        }
        let dir = self.table_dir(schema_name, table_name);
        if !replace && dir.exists() {
            // Left behind by a CREATE that crashed before its commit: it holds no committed data.
            self.move_to_trash(&dir)?;
        }
        std::fs::create_dir_all(&dir).map_err(DataFusionError::IoError)?;
        let table = DeltaTable::try_from_url(directory_url(&dir)?)
            .await
            .map_err(delta_error)?;
        let mode = if replace {
            SaveMode::Overwrite
        } else {
            SaveMode::ErrorIfExists
        };
        let mut write = table
            .write(rows)
            .with_save_mode(mode)
            .with_table_name(table_name)
            .with_commit_properties(CommitProperties::default());
        if replace {
            write = write.with_schema_mode(deltalake::operations::write::SchemaMode::Overwrite);
        }
        let table = write.await.map_err(delta_error)?;
        TableStore::open(table_name.to_string(), table).await
    }

    pub fn drop_table(&self, schema: &str, table: &str) -> Result<()> {
        self.move_to_trash(&self.table_dir(schema, table))
    }

    pub fn save_definition(&self, schema: &str, name: &str, sql: &str) -> Result<()> {
        let path = self.definition_path(schema, name);
        let staging = path.with_extension("sql.tmp");
        std::fs::write(&staging, sql)
            .and_then(|()| std::fs::rename(&staging, &path))
            .map_err(DataFusionError::IoError)
    }

    pub fn remove_definition(&self, schema: &str, name: &str) -> Result<()> {
        match std::fs::remove_file(self.definition_path(schema, name)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(DataFusionError::IoError(e)),
        }
    }

    /// Reads the catalog from disk. Directories that never received a commit are leftovers of
    /// a crashed CREATE TABLE and are cleared away.
    pub async fn load(&self) -> Result<StoredCatalog> {
        let _ = std::fs::remove_dir_all(&self.trash_root);
        let mut catalog = StoredCatalog::default();
        for schema_entry in read_dir(&self.tables_root)? {
            if !schema_entry.is_dir() {
                continue;
            }
            let Some(schema) = decoded_file_name(&schema_entry) else {
                continue;
            };
            for entry in read_dir(&schema_entry)? {
                let file_name = entry
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_string();
                if entry.is_dir() {
                    let Some(name) = decode_name(&file_name) else {
                        continue;
                    };
                    match deltalake::open_table(directory_url(&entry)?).await {
                        Ok(table) => catalog.tables.push(StoredTable {
                            schema: schema.clone(),
                            name: name.clone(),
                            store: TableStore::open(name, table).await?,
                        }),
                        Err(deltalake::DeltaTableError::NotATable(_)) => {
                            tracing::warn!(
                                "removing {}: a table directory with no committed data",
                                entry.display()
                            );
                            self.move_to_trash(&entry)?;
                        }
                        Err(e) => return Err(delta_error(e)),
                    }
                } else if let Some(encoded) = file_name.strip_suffix(DEFINITION_SUFFIX) {
                    let Some(name) = decode_name(encoded) else {
                        continue;
                    };
                    let sql = std::fs::read_to_string(&entry).map_err(DataFusionError::IoError)?;
                    catalog.definitions.push(StoredDefinition {
                        schema: schema.clone(),
                        name,
                        sql,
                    });
                }
            }
            catalog.schemas.push(schema);
        }
        Ok(catalog)
    }

    /// Renaming is atomic, so a dropped object disappears at once even if deleting its files
    /// is interrupted; the trash is emptied here and at the next start.
    fn move_to_trash(&self, path: &Path) -> Result<()> {
        if !path.exists() {
            return Ok(());
        }
        std::fs::create_dir_all(&self.trash_root).map_err(DataFusionError::IoError)?;
        let unique = format!(
            "{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        );
        let destination = self.trash_root.join(unique);
        std::fs::rename(path, &destination).map_err(DataFusionError::IoError)?;
        if let Err(e) = std::fs::remove_dir_all(&destination) {
            tracing::warn!("could not empty {}: {e}", destination.display());
        }
        Ok(())
    }
}

fn read_dir(path: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(DataFusionError::IoError(e)),
    };
    let mut paths = entries
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(DataFusionError::IoError)?;
    paths.sort();
    Ok(paths)
}

fn decoded_file_name(path: &Path) -> Option<String> {
    path.file_name()
        .and_then(|n| n.to_str())
        .and_then(decode_name)
}

pub(crate) fn directory_url(dir: &Path) -> Result<Url> {
    Url::from_directory_path(dir).map_err(|()| {
        SqlError::new(
            sqlstate::IO_ERROR,
            format!("{} is not an absolute directory path", dir.display()),
        )
        .into_datafusion()
    })
}

/// SQL names may hold any character; on disk every byte outside `[A-Za-z0-9_-]` is written as
/// `%XX`, so no name can escape its directory or collide with Quiver's own files.
pub fn encode_name(name: &str) -> String {
    let mut encoded = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-' {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

fn decode_name(encoded: &str) -> Option<String> {
    let bytes = encoded.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = encoded.get(i + 1..i + 3)?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(decoded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_cannot_escape_their_directory() {
        for name in [
            "plain_name",
            "Mixed-Case",
            "../etc",
            "a.b",
            "ünïcode ☃",
            "%41",
        ] {
            let encoded = encode_name(name);
            assert!(
                !encoded.contains('/') && !encoded.contains('.'),
                "{encoded}"
            );
            assert_eq!(decode_name(&encoded).as_deref(), Some(name));
        }
    }
}
