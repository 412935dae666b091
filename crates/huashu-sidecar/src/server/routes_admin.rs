//! Operations: tickets for browser WebSockets, readiness, metrics, the OpenAPI document.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::errors::error_response;
use crate::app::App;
use crate::metrics as m;
use crate::protocol::{ProtoError, code};

pub(super) async fn ticket(State(app): State<Arc<App>>) -> Response {
    match app.auth.issue_ticket() {
        Some((ticket, ttl)) => {
            axum::Json(json!({"ticket": ticket, "expires_in": ttl})).into_response()
        }
        None => error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &ProtoError::new(code::CAPACITY, "too many outstanding tickets"),
        ),
    }
}

pub(super) async fn readyz(State(app): State<Arc<App>>) -> Response {
    let current = app.engines.current();
    let reload = app.engines.status();
    let sessions = app.registry.active();
    let connections = app.connections.load(Ordering::SeqCst);
    let max = app.config.limits.max_sessions;
    let stopping = app.shutting_down();
    let ready = !stopping && sessions < max && connections < max;
    let body = json!({
        "ready": ready,
        "ruleset": current.version,
        "ruleset_source": app.engines.source,
        "generation": current.generation,
        "reload": reload,
        "sessions": sessions,
        "connections": connections,
        "max_sessions": max,
        "listeners": app.registry.listeners(),
        "max_listeners": app.config.limits.max_listeners,
        "shutting_down": stopping,
        "auth": app.auth.required(),
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

pub(super) async fn metrics() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        m::render(),
    )
        .into_response()
}

/// The OpenAPI document (hand-written; a test checks it names every route).
pub const OPENAPI: &str = include_str!("../openapi.json");

pub(super) async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}
