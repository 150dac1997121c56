//! NOTICE messages while a statement runs: training reports its progress through the statement
//! session, and this forwards each message to the client as it arrives, as PostgreSQL does.

use std::fmt::Debug;

use datafusion_postgres::pgwire::api::{ClientInfo, METADATA_USER};
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError};
use datafusion_postgres::pgwire::messages::PgWireBackendMessage;
use datafusion_postgres::pgwire::messages::response::NoticeResponse;
use futures::{Sink, SinkExt};
use tokio::sync::mpsc;

use crate::ml::session::{self, StatementSession};

/// Runs `work` in a statement session for this client, sending its notices as they come.
pub async fn with_notices<C, F>(client: &mut C, work: F) -> F::Output
where
    C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    F: Future,
{
    let (sender, mut receiver) = mpsc::unbounded_channel();
    let user = client.metadata().get(METADATA_USER).cloned();
    let running = session::scope(
        StatementSession {
            user,
            notices: Some(sender),
        },
        work,
    );
    tokio::pin!(running);
    loop {
        tokio::select! {
            output = &mut running => {
                while let Ok(message) = receiver.try_recv() {
                    send(client, message).await;
                }
                return output;
            }
            Some(message) = receiver.recv() => send(client, message).await,
        }
    }
}

async fn send<C>(client: &mut C, message: String)
where
    C: Sink<PgWireBackendMessage> + Unpin,
{
    let notice = NoticeResponse::from(ErrorInfo::new("NOTICE".into(), "00000".into(), message));
    // A client that cannot take a notice will fail on the result too; nothing to do here.
    let _ = client
        .send(PgWireBackendMessage::NoticeResponse(notice))
        .await;
}
