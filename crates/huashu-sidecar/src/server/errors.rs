//! Error bodies and request parsing shared by the route groups: `{"error": {"code", "message"}}` with the
//! status a protocol error code maps to.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::conv::Event;
use crate::protocol::{ProtoError, code};

/// A JSON error body with a status.
pub(super) fn error_response(status: StatusCode, e: &ProtoError) -> Response {
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
