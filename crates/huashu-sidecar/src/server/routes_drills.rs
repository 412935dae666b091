//! The practice drills: `/v1/drills…` (logic in `crate::practice`).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::errors::{json_or_error, parse_body, shutting_down};
use crate::app::App;

/// `GET /v1/drills`: the practice drills.
pub(super) async fn drills(State(app): State<Arc<App>>) -> Response {
    axum::Json(app.practice.list()).into_response()
}

pub(super) async fn drill(State(app): State<Arc<App>>, Path(name): Path<String>) -> Response {
    json_or_error(app.practice.get(&name))
}

pub(super) async fn drill_attempt(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
) -> Response {
    if app.shutting_down() {
        return shutting_down();
    }
    json_or_error(app.practice.start(&app.engines, &name))
}

pub(super) async fn drill_summary(
    State(app): State<Arc<App>>,
    Path((name, id)): Path<(String, String)>,
) -> Response {
    json_or_error(app.practice.summary(&name, &id))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReplyBody {
    text: String,
}

pub(super) async fn drill_reply(
    State(app): State<Arc<App>>,
    Path((name, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    json_or_error(
        parse_body::<ReplyBody>(&body).and_then(|b| app.practice.reply(&name, &id, &b.text)),
    )
}
