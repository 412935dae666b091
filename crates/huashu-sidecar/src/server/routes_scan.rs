//! `POST /v1/scan` (older name `POST /v1/check`): a stateless scan of one turn (a draft), answered as a
//! `huashu scan` output line.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use huashu::LastExchange;
use serde::Deserialize;
use serde_json::Value;

use super::errors::{error_response, parse_body, proto_status};
use crate::app::App;
use crate::metrics as m;
use crate::protocol::{ProtoError, code};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ScanBody {
    #[serde(default = "agent")]
    role: String,
    text: String,
    /// The other party's previous turn, for the rules that look at it (`only_after_turn_has`): a draft
    /// scanned outside a conversation would otherwise never see them.
    #[serde(default)]
    previous: Option<String>,
    /// This party's own turn that `previous` answered, for the rules that look at the last exchange
    /// (`only_after_exchange_has`).
    #[serde(default)]
    own_previous: Option<String>,
    #[serde(default)]
    id: Value,
    #[serde(default)]
    ruleset: Option<String>,
}

fn agent() -> String {
    "agent".into()
}

/// `POST /v1/scan`: a stateless draft scan, answered as a `huashu scan` output line.
pub(super) async fn scan(State(app): State<Arc<App>>, body: axum::body::Bytes) -> Response {
    let a = Arc::clone(&app);
    let result = app
        .check(move || {
            let app = a;
            let b: ScanBody = parse_body(&body)?;
            let role = crate::protocol::role(&b.role)?;
            let (_, loaded) = app
                .engines
                .choose(b.ruleset.as_deref())
                .map_err(|e| ProtoError::new(code::UNKNOWN_RULESET, e))?;
            let exchange = LastExchange {
                previous: b.previous.as_deref(),
                own_previous: b.own_previous.as_deref(),
            };
            let engine = &loaded.engine;
            let findings = engine.scan_turn(role, &b.text, exchange, 0);
            let rewrite = engine.compliant_rewrite(role, &b.text, &findings);
            let previews = engine.previews_turn(role, &b.text, exchange, 0);
            let out = huashu::wire::ScanOut::new(&b.id, &findings, &rewrite, &previews);
            m::turn(
                false,
                crate::protocol::Source::Draft,
                &findings,
                Duration::ZERO,
            );
            Ok::<Value, ProtoError>(serde_json::to_value(&out).unwrap_or(Value::Null))
        })
        .await;
    match result {
        Ok(v) => {
            let body = v.to_string();
            let max = app.config.limits.max_output_bytes;
            if body.len() > max {
                let e = ProtoError::new(
                    code::OUTPUT_TOO_LARGE,
                    format!(
                        "the scan of this text would be {} bytes, over max_output_bytes ({max}): send a shorter text",
                        body.len()
                    ),
                );
                m::error(e.code);
                return error_response(axum::http::StatusCode::UNPROCESSABLE_ENTITY, &e);
            }
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response()
        }
        Err(e) => error_response(proto_status(&e), &e),
    }
}
