//! The whole engine in a Rust program, no server: open a data directory, run SQL, get Arrow.
//!
//! cargo run --example embedded -- /tmp/quiver-example

use datafusion::arrow::util::pretty::print_batches;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "./quiver-example-data".to_string());
    let engine = quiver::Engine::open(&dir).await?;
    engine
        .sql(
            "CREATE TABLE IF NOT EXISTS readings (sensor TEXT, at TIMESTAMP, value DOUBLE PRECISION);
             INSERT INTO readings VALUES ('a', '2026-11-22 10:00:00', 1.5), ('b', '2026-11-22 10:01:00', 2.5);",
        )
        .await?;
    let batches = engine
        .query("SELECT sensor, count(*) AS n, avg(value) AS mean FROM readings GROUP BY sensor ORDER BY sensor")
        .await?;
    print_batches(&batches)?;
    Ok(())
}
