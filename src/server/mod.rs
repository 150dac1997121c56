//! The PostgreSQL wire-protocol server: thin handlers that hand statements to the [`Engine`].

mod copy_in;
mod extended_query;
mod handlers;
mod in_flight;
mod notices;
mod responses;
mod simple_query;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use datafusion_postgres::pgwire::tokio::process_socket;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

pub use handlers::QuiverHandlers;

use crate::engine::Engine;
use crate::error::QuiverError;

/// How long a shutdown waits for running statements before closing their connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// `quiver serve`: opens the data directory, listens, and serves until SIGINT or SIGTERM.
pub async fn run(data_dir: &Path, listen: &str) -> Result<(), QuiverError> {
    let engine = Arc::new(Engine::open(data_dir).await?);
    let listener = TcpListener::bind(listen).await.map_err(|e| {
        QuiverError::Io(std::io::Error::new(
            e.kind(),
            format!("cannot listen on {listen}: {e}"),
        ))
    })?;
    let address = listener.local_addr()?;
    tracing::info!(
        "Quiver listening on {address} (data directory {})",
        engine.data_dir().display()
    );
    serve(engine, listener, shutdown_signal()).await?;
    tracing::info!("Quiver stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(e) => {
                    tracing::warn!("cannot watch SIGTERM: {e}");
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// Serves connections from `listener` until `shutdown` completes; then stops accepting, lets
/// running statements finish (each commit is atomic, so one cut short leaves nothing behind),
/// and closes the connections.
pub async fn serve(
    engine: Arc<Engine>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let handlers = Arc::new(QuiverHandlers::new(engine));
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    let handlers = Arc::clone(&handlers);
                    connections.spawn(serve_connection(socket, peer, handlers));
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off rather than spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    tracing::info!("shutting down: waiting for running statements");
    if !handlers.in_flight.wait_idle(SHUTDOWN_GRACE).await {
        tracing::warn!("statements still running after {SHUTDOWN_GRACE:?}; closing anyway");
    }
    connections.shutdown().await;
    Ok(())
}

async fn serve_connection(
    socket: tokio::net::TcpStream,
    peer: SocketAddr,
    handlers: Arc<QuiverHandlers>,
) {
    let _ = socket.set_nodelay(true);
    if let Err(e) = process_socket(socket, None, handlers).await {
        tracing::debug!("connection from {peer} ended: {e}");
    }
}
