//! `COPY ... FROM STDIN`: psql's `\copy` and drivers' copy-in APIs stream the data in chunks that
//! do not line up with rows; the chunks are gathered per connection and loaded in one commit
//! when the client says it is done.

use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion_postgres::pgwire::api::ClientInfo;
use datafusion_postgres::pgwire::api::copy::CopyHandler;
use datafusion_postgres::pgwire::api::results::{CopyResponse, Response, Tag};
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::PgWireBackendMessage;
use datafusion_postgres::pgwire::messages::copy::{CopyData, CopyDone, CopyFail};
use futures::{Sink, SinkExt};

use super::responses::wire_error;
use crate::engine::{CopyInTarget, Engine, copy_in_column_count, load_delimited};
use crate::error::sqlstate;

/// The COPY a connection is receiving data for.
#[derive(Default)]
struct PendingCopy(Mutex<Option<(CopyInTarget, Vec<u8>)>>);

fn pending(client: &(impl ClientInfo + ?Sized)) -> Arc<PendingCopy> {
    client
        .session_extensions()
        .get_or_insert_with(PendingCopy::default)
}

fn protocol_error(message: &str) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".to_string(),
        "08P01".to_string(),
        message.to_string(),
    )))
}

/// Starts receiving data for `target`; the response tells the client to send it.
pub async fn begin_copy_in(
    engine: &Engine,
    client: &(dyn ClientInfo + Send + Sync),
    target: CopyInTarget,
) -> PgWireResult<Response> {
    let columns = copy_in_column_count(engine, &target)
        .await
        .map_err(wire_error)?;
    *pending(client).0.lock().unwrap_or_else(|e| e.into_inner()) = Some((target, Vec::new()));
    Ok(Response::CopyIn(CopyResponse::new(
        0,
        columns,
        futures::stream::empty(),
    )))
}

pub struct CopyInHandler {
    engine: Arc<Engine>,
}

impl CopyInHandler {
    pub fn new(engine: Arc<Engine>) -> Self {
        Self { engine }
    }
}

/// psql ends text-format data with a `\.` line in some modes; it is not data.
fn strip_end_marker(data: &mut Vec<u8>) {
    for marker in [&b"\\.\r\n"[..], b"\\.\n", b"\\."] {
        if data.ends_with(marker)
            && (data.len() == marker.len() || data[data.len() - marker.len() - 1] == b'\n')
        {
            data.truncate(data.len() - marker.len());
            return;
        }
    }
}

#[async_trait]
impl CopyHandler for CopyInHandler {
    async fn on_copy_data<C>(&self, client: &mut C, copy_data: CopyData) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let pending = pending(&*client);
        let mut slot = pending.0.lock().unwrap_or_else(|e| e.into_inner());
        let (_, buffer) = slot
            .as_mut()
            .ok_or_else(|| protocol_error("COPY data received but no COPY is in progress"))?;
        buffer.extend_from_slice(&copy_data.data);
        Ok(())
    }

    async fn on_copy_done<C>(&self, client: &mut C, _done: CopyDone) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let (target, mut data) = pending(&*client)
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or_else(|| protocol_error("COPY done received but no COPY is in progress"))?;
        strip_end_marker(&mut data);
        let rows = load_delimited(&self.engine, &target, std::io::Cursor::new(data))
            .await
            .map_err(wire_error)?;
        let tag = Tag::new("COPY").with_rows(rows as usize);
        client
            .send(PgWireBackendMessage::CommandComplete(tag.into()))
            .await?;
        Ok(())
    }

    async fn on_copy_fail<C>(&self, client: &mut C, fail: CopyFail) -> PgWireError
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        pending(&*client)
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        PgWireError::UserError(Box::new(ErrorInfo::new(
            "ERROR".to_string(),
            sqlstate::QUERY_CANCELED.to_string(),
            format!("COPY from stdin failed: {}", fail.message),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_marker_is_removed_only_on_its_own_line() {
        let mut data = b"1,a\n2,b\n\\.\n".to_vec();
        strip_end_marker(&mut data);
        assert_eq!(data, b"1,a\n2,b\n");
        let mut data = b"1,a\\.\n".to_vec();
        strip_end_marker(&mut data);
        assert_eq!(data, b"1,a\\.\n");
    }
}
