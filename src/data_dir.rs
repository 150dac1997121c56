//! The data directory: where a Quiver instance keeps everything it owns, and the lock that makes
//! one process its only owner.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::QuiverError;

/// Name of the lock file at the top of the data directory.
const LOCK_FILE: &str = "quiver.lock";
/// Durable tables live under `<data dir>/tables/<schema>/<table>`.
const TABLES_DIR: &str = "tables";

/// An opened data directory, exclusively owned by this process for as long as the value lives.
#[derive(Debug)]
pub struct DataDir {
    root: PathBuf,
    // Held for its flock: the kernel releases it when the process dies, even on SIGKILL, so a
    // crashed server never leaves a stale lock behind.
    _lock: File,
}

impl DataDir {
    /// Creates the directory if needed and takes the exclusive lock; fails at once if another
    /// process owns it.
    pub fn open(root: impl AsRef<Path>) -> Result<Self, QuiverError> {
        let root = root.as_ref();
        std::fs::create_dir_all(root.join(TABLES_DIR)).map_err(|e| {
            QuiverError::DataDir(format!(
                "cannot create data directory {}: {e}",
                root.display()
            ))
        })?;
        let root = root.canonicalize().map_err(|e| {
            QuiverError::DataDir(format!(
                "cannot resolve data directory {}: {e}",
                root.display()
            ))
        })?;
        let lock_path = root.join(LOCK_FILE);
        let mut lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| {
                QuiverError::DataDir(format!(
                    "cannot open lock file {}: {e}",
                    lock_path.display()
                ))
            })?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let owner = std::fs::read_to_string(&lock_path).unwrap_or_default();
                return Err(QuiverError::DataDir(format!(
                    "data directory {} is in use by another Quiver process ({}); stop it or \
                     choose another --data-dir",
                    root.display(),
                    owner.trim()
                )));
            }
            Err(TryLockError::Error(e)) => {
                return Err(QuiverError::DataDir(format!(
                    "cannot lock data directory {}: {e}",
                    root.display()
                )));
            }
        }
        // The pid is informational only (for the error above); the flock is what protects.
        lock.set_len(0)
            .and_then(|()| write!(lock, "pid {}", std::process::id()))
            .map_err(|e| QuiverError::DataDir(format!("cannot write lock file: {e}")))?;
        Ok(Self { root, _lock: lock })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory that holds one sub-directory per schema, each holding Delta tables.
    pub fn tables_root(&self) -> PathBuf {
        self.root.join(TABLES_DIR)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_open_of_the_same_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDir::open(dir.path()).unwrap();
        let err = DataDir::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("in use by another Quiver process"), "{err}");
        drop(first);
        DataDir::open(dir.path()).expect("lock is released when the owner goes away");
    }

    #[test]
    fn creates_missing_directories() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b/c");
        let data = DataDir::open(&nested).unwrap();
        assert!(data.tables_root().is_dir());
    }
}
