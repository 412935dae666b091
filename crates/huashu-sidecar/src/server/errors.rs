//! Error bodies and request parsing shared by the route groups: `{"error": {"code", "message"}}` with the
//! status a protocol error code maps to.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::app::App;
use crate::conv::Event;
use crate::protocol::{ProtoError, code};

/// A JSON error body with a status.
pub(super) fn error_response(status: StatusCode, e: &ProtoError) -> Response {
    if e.code == code::CAPACITY {
        crate::metrics::rejected("capacity");
    }
    (
        status,
        axum::Json(json!({"error": {"code": e.code, "message": e.message}})),
    )
        .into_response()
}

pub(super) fn proto_status(e: &ProtoError) -> StatusCode {
    match e.code {
        code::CAPACITY | code::SHUTTING_DOWN => StatusCode::SERVICE_UNAVAILABLE,
        code::NO_SESSION | code::NOT_FOUND => StatusCode::NOT_FOUND,
        code::CONFLICT => StatusCode::CONFLICT,
        _ => StatusCode::BAD_REQUEST,
    }
}

pub(super) fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ProtoError> {
    serde_json::from_slice(body).map_err(|e| {
        let c = if e.is_data() {
            code::BAD_MESSAGE
        } else {
            code::BAD_JSON
        };
        ProtoError::new(c, format!("invalid body: {e}"))
    })
}

pub(super) fn json_or_error(r: Result<Value, ProtoError>) -> Response {
    match r {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => error_response(proto_status(&e), &e),
    }
}

pub(super) fn score_response(e: Result<Event, ProtoError>) -> Response {
    match e {
        Ok(ev) => (
            [(header::CONTENT_TYPE, "application/json")],
            ev.data.to_string(),
        )
            .into_response(),
        Err(e) => error_response(proto_status(&e), &e),
    }
}

/// The error for a request that arrives while the daemon is stopping.
pub(super) fn shutting_down() -> Response {
    let e = ProtoError::new(code::SHUTTING_DOWN, "the server is shutting down");
    error_response(proto_status(&e), &e)
}

/// The body over `max_frame_bytes`.
pub(super) fn too_large(max: usize) -> Response {
    error_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        &ProtoError::new(
            code::FRAME_TOO_LARGE,
            format!("request body over the limit of {max} bytes (max_frame_bytes)"),
        ),
    )
}

/// Reads every request body before routing: at most `max_frame_bytes` (413 beyond) within `body_timeout_ms`
/// (408 `timeout` beyond), so a client that trickles a body cannot hold a connection and a handler, and both
/// refusals are the documented JSON error.
pub(super) async fn read_body(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let max = app.config.limits.max_frame_bytes;
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        crate::metrics::rejected("too_large");
        return too_large(max);
    }
    if declared.unwrap_or(0) == 0 && !parts.headers.contains_key(header::TRANSFER_ENCODING) {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let limit = Duration::from_millis(app.config.limits.body_timeout_ms);
    match tokio::time::timeout(limit, axum::body::to_bytes(body, max)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(e)) if e.to_string().contains("length limit") => {
            crate::metrics::rejected("too_large");
            too_large(max)
        }
        Ok(Err(e)) => error_response(
            StatusCode::BAD_REQUEST,
            &ProtoError::new(code::BAD_JSON, format!("could not read the body: {e}")),
        ),
        Err(_) => {
            crate::metrics::rejected("timeout");
            error_response(
                StatusCode::REQUEST_TIMEOUT,
                &ProtoError::new(
                    code::TIMEOUT,
                    format!(
                        "the body was not received within {} ms (body_timeout_ms)",
                        app.config.limits.body_timeout_ms
                    ),
                ),
            )
        }
    }
}

/// Every error the router or an extractor answers on its own (a malformed path, a wrong method, an unknown
/// route, a failed upgrade) becomes the documented JSON error body.
pub(super) async fn json_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let c = match status {
        StatusCode::NOT_FOUND => code::NOT_FOUND,
        StatusCode::METHOD_NOT_ALLOWED => code::METHOD_NOT_ALLOWED,
        StatusCode::PAYLOAD_TOO_LARGE => code::FRAME_TOO_LARGE,
        StatusCode::REQUEST_TIMEOUT => code::TIMEOUT,
        StatusCode::UNSUPPORTED_MEDIA_TYPE | StatusCode::UNPROCESSABLE_ENTITY => code::BAD_MESSAGE,
        s if s.is_server_error() => code::INTERNAL,
        _ => code::BAD_REQUEST,
    };
    let (mut parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        text
    };
    crate::metrics::error(c);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    let body = json!({"error": {"code": c, "message": message}}).to_string();
    Response::from_parts(parts, Body::from(body))
}
