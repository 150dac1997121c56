//! Quiver's SQL functions on a plain DataFusion `SessionContext`, with no Quiver engine at all.
//!
//! cargo run --example register_udfs

use datafusion::prelude::SessionContext;

#[tokio::main]
async fn main() -> datafusion::error::Result<()> {
    let ctx = SessionContext::new();
    quiver_udfs::register_all(&ctx);
    let names: Vec<String> = quiver_udfs::scalar_functions()
        .iter()
        .map(|f| f.name().to_string())
        .chain(
            quiver_udfs::aggregate_functions()
                .iter()
                .map(|f| f.name().to_string()),
        )
        .collect();
    println!(
        "registered {} quiver-udfs functions: {names:?}",
        names.len()
    );
    ctx.sql("SELECT 1 AS ready").await?.show().await?;
    Ok(())
}
