//! What the benches that measure over pgwire share: a Quiver server on a free loopback port with
//! one connected client, and latency percentiles.

use std::sync::Arc;
use std::time::Duration;

/// Serves `engine` until the runtime stops and connects one client to it. Call inside the
/// (multi-threaded) runtime the benchmark then uses.
pub async fn serve(engine: Arc<quiver::Engine>) -> tokio_postgres::Client {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(quiver::server::serve(
        engine,
        listener,
        std::future::pending(),
    ));
    let (client, connection) = tokio_postgres::connect(
        &format!("host=127.0.0.1 port={port} user=postgres"),
        tokio_postgres::NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    client
}

/// The p50 and p99 of `samples`.
pub fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (at(0.50), at(0.99))
}
