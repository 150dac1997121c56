//! Quiver: a SQL-native machine-learning engine. A DataFusion query engine over durable Delta
//! Lake tables, served over the PostgreSQL wire protocol or embedded in a Rust program.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = quiver::Engine::open("./quiver-data").await?;
//! engine.sql("CREATE TABLE t AS SELECT 1 AS x").await?;
//! let batches = engine.query("SELECT x FROM t").await?;
//! # Ok(()) }
//! ```

pub mod cli;
pub mod data_dir;
pub mod engine;
pub mod error;
pub mod features;
pub mod ml;
pub mod server;
pub mod storage;

pub use engine::{CommandTag, Engine, StatementOutcome};
pub use error::{QuiverError, SqlError};
