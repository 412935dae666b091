//! Telephony adapters inside `huashu serve` (docs/integrations.md): each speaks one platform's wire
//! protocol at a fixed path, maps the platform's parties to agent/customer and its call id to the
//! conversation id, and feeds a [`call::LiveCall`] (per-party VAD and recognition, turns in spoken order,
//! findings and hints to SSE listeners and back to the platform where it has a channel).
//!
//! | module | platform | where |
//! |---|---|---|
//! | `freeswitch.rs` | FreeSWITCH `mod_audio_fork` / `mod_audio_stream` | WebSocket `/v1/integrations/freeswitch` |
//! | `twilio.rs` | Twilio Media Streams | WebSocket `/v1/integrations/twilio` |
//! | `audiohook.rs` | Genesys Cloud AudioHook v2 | WebSocket `/v1/integrations/audiohook` |
//! | `audiosocket.rs` | Asterisk AudioSocket | TCP `[integrations.audiosocket] listen`, `POST /v1/integrations/audiosocket/calls` |
//! | `chatwoot.rs` | Chatwoot webhooks | `POST /v1/integrations/chatwoot` (routes in `server/routes_integrations.rs`; the router maps its answers to HTTP) |
//!
//! `call.rs` is the call itself, `sign.rs` the platforms' signatures; [`join`] attaches a connection to a
//! call. The live and finished calls are data that `App` holds (`crate::call_registry`), and the
//! adapters' settings are `crate::config::integrations`: neither imports this module.

pub mod audiohook;
pub mod audiosocket;
pub mod call;
pub mod chatwoot;
pub mod freeswitch;
pub mod sign;
pub mod twilio;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use metrics::{counter, gauge};
use serde_json::{Value, json};

use crate::app::{App, ConnGuard};
use crate::call_registry::{self, CallSpec};
use crate::protocol::{ProtoError, code};
use call::Attached;
use futures_util::SinkExt;

/// Attaches a connection to the call `spec.id`: the live one (a reconnect, another leg), else a new call
/// on a new conversation.
///
/// A new call is recorded as live before it is set up (the conversation started, a recogniser state made
/// per party, which takes a while with Whisper), so a connection with the same id arriving meanwhile —
/// AudioSocket's other leg, connected by Asterisk at the same moment — joins it (its commands wait in the
/// call's queue) instead of trying to start the conversation a second time and being refused.
///
/// # Errors
/// `conflict` (the id is a call of another adapter or layout, or a WebSocket client owns the
/// conversation), `capacity`, `shutting_down`.
pub async fn join(app: &Arc<App>, spec: CallSpec) -> Result<Attached, ProtoError> {
    let calls = &app.integrations;
    let conn = calls.next_conn();
    let (back_tx, back) = call::back_channel();
    let (handle, rx) = loop {
        match claim(app, &spec) {
            Claim::Live(h) => {
                if h.spec != spec {
                    return Err(ProtoError::new(
                        code::CONFLICT,
                        format!(
                            "call {:?} is live through {} with other parties or audio format",
                            spec.id, h.spec.adapter
                        ),
                    ));
                }
                if h.tx
                    .send(call_registry::Cmd::Attach {
                        conn,
                        back: back_tx.clone(),
                    })
                    .await
                    .is_ok()
                {
                    return Ok(Attached {
                        call: h,
                        conn,
                        back,
                        rejoined: true,
                    });
                }
                // That call ended meanwhile (and is no longer live): start a new one.
            }
            Claim::New(h, rx) => break (h, rx),
        }
    };
    // Until the call runs, it is live in name only: undo that on every way out.
    let unclaim = |e: ProtoError| {
        calls.forget(&spec.id, &handle.tx);
        Err(e)
    };
    if app.shutting_down() {
        return unclaim(ProtoError::new(
            code::SHUTTING_DOWN,
            "the server is shutting down",
        ));
    }
    let id = Value::String(spec.id.clone());
    let conv = match app.registry.start(&app.engines, &id, None, &[], true) {
        Ok((conv, _)) => conv,
        Err(e) => return unclaim(e),
    };
    if let Err(e) = call::spawn(app, &handle, rx, Arc::clone(&conv), (conn, back_tx)) {
        let _ = app.registry.end(&conv, None);
        app.registry.release(&conv);
        return unclaim(e);
    }
    Ok(Attached {
        call: handle,
        conn,
        back,
        rejoined: false,
    })
}

/// What [`claim`] found: the live call, or a new one recorded as live whose task is not started yet.
enum Claim {
    Live(call_registry::CallHandle),
    New(
        call_registry::CallHandle,
        tokio::sync::mpsc::Receiver<call_registry::Cmd>,
    ),
}

/// The live call `spec.id`, or a new handle recorded as live in the same step (one step for every daemon
/// in the process: a few map operations, never held across an await).
fn claim(app: &App, spec: &CallSpec) -> Claim {
    static CLAIM: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = CLAIM.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(h) = app.integrations.live(&spec.id) {
        return Claim::Live(h);
    }
    let (tx, rx) = call::command_channel();
    let h = call_registry::CallHandle {
        tx,
        spec: spec.clone(),
    };
    app.integrations.started(h.clone());
    Claim::New(h, rx)
}

/// The adapters' WebSocket endpoints (each checks its own platform's credentials).
pub fn ws_routes() -> Router<Arc<App>> {
    Router::new()
        .route("/v1/integrations/freeswitch", get(freeswitch::upgrade))
        .route("/v1/integrations/twilio", get(twilio::upgrade))
        .route("/v1/integrations/audiohook", get(audiohook::upgrade))
}

/// The adapters' REST endpoints (behind the bearer token like the rest of the API).
pub fn api_routes() -> Router<Arc<App>> {
    Router::new()
        .route(
            "/v1/integrations/audiosocket/calls",
            post(audiosocket::register),
        )
        .route("/v1/integrations/calls/{id}", get(call_stats))
}

/// `GET /v1/integrations/calls/{id}`: a live or recently finished call's parties (audio received,
/// level, pitch, utterances cut, finals) — what reached which role.
async fn call_stats(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    match app.integrations.stats(&id).await {
        Some(v) => axum::Json(v).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            &ProtoError::new(
                code::NOT_FOUND,
                "no live or recently finished call with this id",
            ),
        ),
    }
}

/// A JSON error body, as elsewhere in the sidecar.
pub(crate) fn error(status: StatusCode, e: &ProtoError) -> Response {
    (
        status,
        axum::Json(json!({"error": {"code": e.code, "message": e.message}})),
    )
        .into_response()
}

/// The checks every adapter's upgrade shares: not shutting down, a connection slot (counted like
/// `/v1/stream` connections, so readiness and shutdown see them).
///
/// # Errors
/// The response to send instead (503).
pub(crate) fn admit(app: &Arc<App>, adapter: &'static str) -> Result<ConnGuard, Box<Response>> {
    if app.shutting_down() {
        rejected(adapter, "shutting_down");
        return Err(Box::new(error(
            StatusCode::SERVICE_UNAVAILABLE,
            &ProtoError::new(code::SHUTTING_DOWN, "the server is shutting down"),
        )));
    }
    let max = app.config.limits.max_sessions;
    if app
        .connections
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
            (n < max).then_some(n + 1)
        })
        .is_err()
    {
        rejected(adapter, "capacity");
        return Err(Box::new(error(
            StatusCode::SERVICE_UNAVAILABLE,
            &ProtoError::new(
                code::CAPACITY,
                format!("at capacity ({max} connections); try again later"),
            ),
        )));
    }
    crate::metrics::connection(1.0);
    counter!("huashu_integration_connections_total", "adapter" => adapter).increment(1);
    Ok(ConnGuard(Arc::clone(app)))
}

/// Every adapter's WebSocket upgrade but the platform's own checks: 404 when the adapter is disabled
/// (`platform` names it), 401 when `allowed` gives a reason (the platform's credentials, or
/// [`sidecar_credentials`] where none are configured), 503 from [`admit`]; else the upgrade with the
/// daemon's frame limit, the connection handed to `run` with its guard.
pub(crate) fn upgrade<F, Fut>(
    app: Arc<App>,
    ws: WebSocketUpgrade,
    adapter: &'static str,
    (platform, enabled): (&str, bool),
    allowed: impl FnOnce(&App) -> Result<(), String>,
    run: F,
) -> Response
where
    F: FnOnce(Arc<App>, WebSocket, ConnGuard) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    if !enabled {
        return error(
            StatusCode::NOT_FOUND,
            &ProtoError::new(
                code::NOT_FOUND,
                format!("the {platform} integration is disabled"),
            ),
        );
    }
    if let Err(why) = allowed(&app) {
        return unauthorized(adapter, &why);
    }
    let guard = match admit(&app, adapter) {
        Ok(g) => g,
        Err(r) => return *r,
    };
    let limit = app.config.limits.max_frame_bytes;
    ws.max_message_size(limit.saturating_mul(2))
        .max_frame_size(limit.saturating_mul(2))
        .on_upgrade(move |socket| run(app, socket, guard))
}

/// The sidecar's own credentials, for an adapter whose platform secret is not configured: a bearer
/// header, a ticket (`?ticket=`), or none needed (no tokens: loopback only).
///
/// # Errors
/// Why the connection is refused.
pub(crate) fn sidecar_credentials(
    app: &App,
    headers: &HeaderMap,
    ticket: Option<&str>,
) -> Result<(), String> {
    if bearer_or_ticket(app, headers, ticket) {
        Ok(())
    } else {
        Err("missing or invalid bearer token or ticket".to_string())
    }
}

/// The sidecar's own credentials, for adapters without a platform secret: a bearer header, a ticket
/// (`?ticket=`), or none needed (no tokens: loopback only).
pub(crate) fn bearer_or_ticket(app: &App, headers: &HeaderMap, ticket: Option<&str>) -> bool {
    app.auth.check_headers(headers) || ticket.is_some_and(|t| app.auth.redeem(t))
}

/// The 401 of an adapter.
pub(crate) fn unauthorized(adapter: &'static str, why: &str) -> Response {
    rejected(adapter, "unauthorized");
    crate::metrics::rejected("unauthorized");
    error(
        StatusCode::UNAUTHORIZED,
        &ProtoError::new(code::UNAUTHORIZED, why.to_string()),
    )
}

pub(crate) fn rejected(adapter: &'static str, reason: &'static str) {
    counter!("huashu_integration_rejected_total", "adapter" => adapter, "reason" => reason)
        .increment(1);
}

pub(crate) fn frames(adapter: &'static str, n: u64) {
    counter!("huashu_integration_audio_frames_total", "adapter" => adapter).increment(n);
}

pub(crate) fn calls(adapter: &'static str, delta: f64) {
    gauge!("huashu_integration_calls_active", "adapter" => adapter).increment(delta);
    if delta > 0.0 {
        counter!("huashu_integration_calls_total", "adapter" => adapter).increment(1);
    }
}

pub(crate) fn sent_back(adapter: &'static str) {
    counter!("huashu_integration_messages_sent_total", "adapter" => adapter).increment(1);
}

/// Sends an adapter's close frame; the peer may already be gone, and then there is no one to tell.
async fn close(
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    code: u16,
    reason: &'static str,
) {
    let _ = sink
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        })))
        .await;
}
