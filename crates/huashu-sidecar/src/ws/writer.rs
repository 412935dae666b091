//! The connection's writer: messages → socket, each within `write_timeout_ms` (a client that does not read is
//! disconnected as a slow consumer).

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::SinkExt;
use tokio::sync::mpsc;

use crate::metrics as m;
use crate::protocol::code;

/// One outgoing frame.
pub(super) enum Out {
    Text(Arc<str>),
    Close(u16, &'static str),
}

pub(super) async fn write_loop(
    mut sink: futures_util::stream::SplitSink<WebSocket, Message>,
    mut rx: mpsc::Receiver<Out>,
    timeout: std::time::Duration,
) {
    while let Some(out) = rx.recv().await {
        let (msg, last) = match out {
            Out::Text(t) => (Message::Text(Utf8Bytes::from(&*t)), false),
            Out::Close(code, reason) => (
                Message::Close(Some(CloseFrame {
                    code,
                    reason: Utf8Bytes::from_static(reason),
                })),
                true,
            ),
        };
        let sent = tokio::time::timeout(timeout, async {
            sink.feed(msg).await?;
            if last || rx.is_empty() {
                sink.flush().await?;
            }
            Ok::<(), axum::Error>(())
        })
        .await;
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return,
            Err(_) => {
                m::rejected("slow_consumer");
                m::error(code::SLOW_CONSUMER);
                return;
            }
        }
        if last {
            let _ = tokio::time::timeout(timeout, sink.close()).await;
            return;
        }
    }
    // The connection is over without a close of ours (the client closed, or went away): flush the WebSocket
    // layer's reply to the client's close frame (1002 for a bad close code), or send one.
    let _ = tokio::time::timeout(timeout, sink.close()).await;
}
