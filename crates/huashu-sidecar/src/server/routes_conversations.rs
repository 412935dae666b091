//! Conversations: the WebSocket upgrade (`/v1/stream`, the connection itself is `crate::ws`), REST utterances,
//! scores and ends, and the server-sent events of a conversation.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{broadcast, watch};

use super::errors::{error_response, parse_body, proto_status, score_response, shutting_down};
use crate::app::{App, ConnGuard};
use crate::conv::Event;
use crate::metrics as m;
use crate::protocol::{ProtoError, Utterance, code};
use crate::ws;

#[derive(Deserialize)]
pub(super) struct StreamQuery {
    ticket: Option<String>,
}

pub(super) async fn stream(
    State(app): State<Arc<App>>,
    Query(q): Query<StreamQuery>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let authorized =
        app.auth.check_headers(&headers) || q.ticket.as_deref().is_some_and(|t| app.auth.redeem(t));
    if !authorized {
        m::rejected("unauthorized");
        return error_response(
            StatusCode::UNAUTHORIZED,
            &ProtoError::new(
                code::UNAUTHORIZED,
                "missing or invalid bearer token or ticket",
            ),
        );
    }
    if app.shutting_down() {
        return shutting_down();
    }
    let max = app.config.limits.max_sessions;
    if app
        .connections
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
            (n < max).then_some(n + 1)
        })
        .is_err()
    {
        return error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &ProtoError::new(
                code::CAPACITY,
                format!("at capacity ({max} connections); try again later"),
            ),
        );
    }
    m::connection(1.0);
    let guard = ConnGuard(Arc::clone(&app));
    let limit = app.config.limits.max_frame_bytes;
    // Small socket buffers: most of a held session's memory is these (tungstenite defaults to 128 KiB each).
    ws.read_buffer_size(8 * 1024)
        .write_buffer_size(8 * 1024)
        .max_message_size(limit.saturating_mul(2))
        .max_frame_size(limit.saturating_mul(2))
        .on_upgrade(move |socket| ws::run(socket, guard))
}

pub(super) fn id_value(id: &str) -> Value {
    Value::String(id.to_string())
}

pub(super) async fn post_utterance(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    if app.shutting_down() {
        return shutting_down();
    }
    let a = Arc::clone(&app);
    let result = app
        .check(move || {
            let u: Utterance = parse_body(&body)?;
            let conv = a.registry.get_or_start(&a.engines, &id_value(&id))?;
            conv.rest_utterance(&a.engines, &u)
        })
        .await;
    match result {
        Ok(out) => axum::Json(out.body).into_response(),
        Err(e) => error_response(proto_status(&e), &e),
    }
}

pub(super) async fn get_score(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    let result = app
        .registry
        .get(&id)
        .ok_or_else(|| ProtoError::new(code::NOT_FOUND, "no such conversation"))
        .and_then(|c| c.score(false, None));
    score_response(result)
}

pub(super) async fn end_conversation(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> Response {
    let result = app
        .registry
        .get(&id)
        .ok_or_else(|| ProtoError::new(code::NOT_FOUND, "no such conversation"))
        .and_then(|c| app.registry.end_rest(&c));
    score_response(result)
}

/// `GET /v1/conversations/{id}/events`: the same messages as the WebSocket, as server-sent events. Ends after
/// the final score, or at shutdown.
pub(super) async fn events(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    let (conv, rx) = match app.registry.listen(&id_value(&id)) {
        Ok(l) => l,
        Err(e) => return error_response(proto_status(&e), &e),
    };
    let listening = Listening {
        rx: Some(rx),
        app: Arc::clone(&app),
        conv,
    };
    let stream = sse_stream(listening, app.shutdown_rx());
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

/// One SSE listener: dropped with its stream (the client went away, or the stream ended), which frees its
/// slot at once.
pub(super) struct Listening {
    rx: Option<broadcast::Receiver<Event>>,
    app: Arc<App>,
    conv: Arc<crate::conv::Conversation>,
}

impl Listening {
    async fn recv(&mut self) -> Result<Event, broadcast::error::RecvError> {
        match self.rx.as_mut() {
            Some(rx) => rx.recv().await,
            None => Err(broadcast::error::RecvError::Closed),
        }
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        drop(self.rx.take());
        self.app.registry.unlisten(&self.conv);
    }
}

pub(super) fn sse_stream(
    rx: Listening,
    shutdown: watch::Receiver<bool>,
) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    struct St {
        rx: Listening,
        shutdown: watch::Receiver<bool>,
        done: bool,
    }
    futures_util::stream::unfold(
        St {
            rx,
            shutdown,
            done: false,
        },
        |mut st| async move {
            if st.done {
                return None;
            }
            loop {
                let stopping = *st.shutdown.borrow();
                let next = if stopping {
                    // Give finishing sessions a moment to send their final score.
                    match tokio::time::timeout(Duration::from_secs(2), st.rx.recv()).await {
                        Ok(r) => r,
                        Err(_) => return None,
                    }
                } else {
                    tokio::select! {
                        r = st.rx.recv() => r,
                        _ = st.shutdown.wait_for(|v| *v) => continue,
                    }
                };
                match next {
                    Ok(e) => {
                        st.done = e.last;
                        let ev = SseEvent::default().event(e.name).data(&*e.data);
                        return Some((Ok(ev), st));
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        let ev = SseEvent::default().event("error").data(
                            json!({"type": "error", "code": "lagged",
                                   "message": format!("{n} events were missed: this listener read too slowly")})
                            .to_string(),
                        );
                        return Some((Ok(ev), st));
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        },
    )
}
