//! `GET /v1/stream`: one WebSocket connection = a reader (frames → a bounded inbox), a worker (inbox →
//! engine → messages) and a writer (messages → socket, with a write timeout).
//!
//! Backpressure: finals and control messages wait in a bounded queue; when it is full the reader stops
//! reading the socket (TCP pushes back on the client) — they are never dropped. Partials and drafts sit in one
//! slot per role (and one for drafts): a newer one replaces an unprocessed older one, and messages derived
//! from them are dropped when the output queue is full. A client that does not read for `write_timeout_ms`
//! is disconnected (its session still ends with a final score for its SSE listeners).

//!
//! Files: `inbox.rs` (the bounded inbox), `worker.rs` (inbox → conversation → messages), `audio.rs` (live
//! audio streams), `writer.rs` (messages → socket); this file is the reader.

mod audio;
mod inbox;
mod worker;
mod writer;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::ws::{Message, WebSocket};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::app::ConnGuard;
use crate::metrics as m;
use crate::protocol::{self, ProtoError, close, code};
use inbox::{Inbox, Item};
use worker::work_loop;
use writer::{Out, write_loop};

/// Runs one upgraded connection to its end.
pub async fn run(socket: WebSocket, guard: ConnGuard) {
    let app = Arc::clone(&guard.0);
    let limits = app.config.limits.clone();
    let (sink, mut stream) = socket.split();
    let (out_tx, out_rx) = mpsc::channel::<Out>(limits.out_queue);
    let inbox = Arc::new(Inbox::new(limits.queue_depth));
    let mut writer = tokio::spawn(write_loop(sink, out_rx, limits.write_timeout()));
    let worker = tokio::spawn(work_loop(Arc::clone(&app), Arc::clone(&inbox), out_tx));
    let mut shutdown = app.shutdown_rx();
    let mut writer_done = false;
    // A connection with no session in progress for this long is closed (it holds a connection slot).
    let idle_limit = std::time::Duration::from_millis(limits.ws_idle_timeout_ms);
    let idle = tokio::time::sleep(idle_limit);
    tokio::pin!(idle);
    loop {
        let item = tokio::select! {
            biased;
            _ = shutdown.wait_for(|v| *v) => Item::Shutdown,
            _ = &mut writer, if !writer_done => { writer_done = true; Item::Disconnected }
            () = inbox.session_ended.notified() => {
                idle.as_mut().reset(tokio::time::Instant::now() + idle_limit);
                continue;
            }
            () = &mut idle => {
                idle.as_mut().reset(tokio::time::Instant::now() + idle_limit);
                if inbox.in_session.load(std::sync::atomic::Ordering::SeqCst) {
                    continue;
                }
                Item::Fatal {
                    error: ProtoError::new(
                        code::IDLE,
                        format!("no session in progress for {} ms (ws_idle_timeout_ms): send session.start after connecting", limits.ws_idle_timeout_ms),
                    ),
                    close: close::POLICY,
                    reason: "idle without a session",
                    score: false,
                }
            }
            frame = stream.next() => match frame {
                None => Item::Disconnected,
                Some(Ok(Message::Close(frame))) => {
                    // The WebSocket layer answers a bad close code with 1002 (the writer flushes it) and
                    // hands us its own 1002 "Protocol violation" in place of the client's frame.
                    if frame.is_some_and(|f| {
                        !close_code_allowed(f.code)
                            || (f.code == close::PROTOCOL && f.reason.as_str() == "Protocol violation")
                    }) {
                        m::rejected("protocol");
                        m::error(code::BAD_FRAME);
                    }
                    Item::Disconnected
                }
                Some(Err(e)) => {
                    let text = e.to_string();
                    if text.contains("too long") || text.contains("too big") || text.contains("Space limit") {
                        too_big(limits.max_frame_bytes)
                    } else if text.contains("UTF-8") {
                        broken(close::INVALID_DATA, "invalid UTF-8", format!("a text frame that is not UTF-8: {text}"))
                    } else if text.contains("protocol error") {
                        broken(close::PROTOCOL, "protocol error", format!("a frame that breaks the WebSocket protocol: {text}"))
                    } else {
                        Item::Disconnected
                    }
                }
                Some(Ok(Message::Text(t))) => {
                    if t.len() > limits.max_frame_bytes {
                        too_big(limits.max_frame_bytes)
                    } else {
                        match protocol::parse(t.as_str()) {
                            Ok(msg) => {
                                if matches!(&msg, protocol::In::Utterance(u) if u.is_final) {
                                    m::received();
                                }
                                Item::Msg(msg, Instant::now())
                            }
                            Err(e) => Item::Error(e),
                        }
                    }
                }
                Some(Ok(Message::Binary(b))) => {
                    if b.len() > limits.max_frame_bytes {
                        Item::Error(ProtoError::new(
                            code::FRAME_TOO_LARGE,
                            format!("audio frame of {} bytes over the limit of {} bytes; the frame was dropped (send ≤ 1 s per frame)", b.len(), limits.max_frame_bytes),
                        ))
                    } else {
                        Item::Audio(b)
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            }
        };
        let last = matches!(
            item,
            Item::Disconnected | Item::Shutdown | Item::Fatal { .. }
        );
        if inbox.push(item).await.is_err() || last {
            break;
        }
    }
    // The worker ends after the terminal item (or already has); then the writer drains and ends.
    let _ = worker.await;
    if !writer_done {
        let _ = writer.await;
    }
    drop(guard);
}

/// A protocol violation: the error, the final score of the session in progress, then the close.
fn broken(close: u16, reason: &'static str, message: String) -> Item {
    m::rejected("protocol");
    Item::Fatal {
        error: ProtoError::new(code::BAD_FRAME, message),
        close,
        reason,
        score: true,
    }
}

/// Close codes a peer may send (RFC 6455 §7.4): the rest are a protocol error.
fn close_code_allowed(c: u16) -> bool {
    matches!(c, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

fn too_big(max: usize) -> Item {
    Item::Fatal {
        error: ProtoError::new(
            code::FRAME_TOO_LARGE,
            format!("frame over the limit of {max} bytes"),
        ),
        close: close::TOO_BIG,
        reason: "frame too large",
        score: false,
    }
}
