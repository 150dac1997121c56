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
        .chain(
            quiver_udfs::table_functions()
                .into_iter()
                .map(|(name, _)| name.to_string()),
        )
        .collect();
    println!(
        "registered {} quiver-udfs functions: {names:?}",
        names.len()
    );
    // The worked PSI example of the documentation: reference 1..10 against a shifted sample.
    ctx.sql(
        "SELECT psi(x, is_ref, 5) AS psi, ks_2samp(x, is_ref)['pvalue'] AS ks_pvalue
         FROM (SELECT CAST(v AS DOUBLE) AS x, true AS is_ref FROM generate_series(1, 10) g(v)
               UNION ALL
               SELECT x, false FROM (VALUES (1.0), (1.0), (2.0), (2.0), (3.0), (8.0), (9.0),
                                            (10.0), (10.0), (10.0)) c(x))",
    )
    .await?
    .show()
    .await?;
    Ok(())
}
