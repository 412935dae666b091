//! Genesys Cloud AudioHook protocol v2 (the server side): the client (Genesys) sends `open` (its
//! `parameters.conversationId` is the conversation id, `media` the offered formats), the server answers
//! `opened` with the one it takes (PCMU 8 kHz, or L16 8/16 kHz; channels `external` = customer, `internal`
//! = agent); `ping` → `pong`, `update` → `updated`, `paused`/`resumed`/`discarded` are noted, `close` →
//! `closed` ends the call. Binary frames are the audio, channels interleaved in the order of the chosen
//! media's `channels`; L16 is little-endian as in Genesys' reference implementation (the spec does not say).
//! With `api_key` set, `X-API-KEY` must match; with `client_secret` set, the HTTP message signature of the
//! upgrade (RFC 9421, HMAC-SHA256) must verify. AudioHook Monitor has no channel for hints: they go to SSE.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{OriginalUri, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use huashu_audio::live::Encoding;
use serde::Deserialize;
use serde_json::{Value, json};

use super::call::Attached;
use super::close;
use crate::app::{App, ConnGuard};
use crate::call_registry::CallSpec;
use crate::conv::key_of;
use crate::protocol::{ProtoError, code};

const ADAPTER: &str = "audiohook";

#[derive(Deserialize)]
pub(super) struct Q {
    ticket: Option<String>,
}

pub(super) async fn upgrade(
    State(app): State<Arc<App>>,
    Query(q): Query<Q>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let enabled = app.config.integrations.audiohook.enabled;
    super::upgrade(
        app,
        ws,
        ADAPTER,
        ("AudioHook", enabled),
        |app| {
            let cfg = &app.config.integrations.audiohook;
            let header = |name: &str| {
                let values: Vec<&str> = headers
                    .get_all(name)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .collect();
                (!values.is_empty()).then(|| values.join(", "))
            };
            let Some(key) = &cfg.api_key else {
                if cfg.client_secret.is_some() {
                    return Err(
                        "client_secret is set without api_key (the signature's keyid)".into(),
                    );
                }
                return super::sidecar_credentials(app, &headers, q.ticket.as_deref());
            };
            if header("x-api-key").as_deref() != Some(key.as_str()) {
                return Err("missing or invalid X-API-KEY".into());
            }
            if let Some(secret) = &cfg.client_secret {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let target = uri
                    .path_and_query()
                    .map_or_else(|| uri.path().to_string(), ToString::to_string);
                let req = super::sign::Request {
                    method: "GET",
                    target: &target,
                    header: &header,
                    now,
                };
                if let Err(why) = super::sign::verify_message(&req, key, secret) {
                    return Err(format!("message signature refused: {}", why.0));
                }
            }
            Ok(())
        },
        run,
    )
}

/// The call an `open` message describes, and the media entry taken (for `opened`).
fn spec_of(open: &Value) -> Result<(CallSpec, Value), ProtoError> {
    let bad = |m: String| ProtoError::new(code::BAD_MESSAGE, format!("open: {m}"));
    let p = &open["parameters"];
    let id = key_of(&p["conversationId"])
        .map_err(|e| bad(format!("parameters.conversationId: {}", e.message)))?;
    let offered = p["media"].as_array().cloned().unwrap_or_default();
    for m in offered {
        let encoding = match (m["type"].as_str(), m["format"].as_str(), m["rate"].as_u64()) {
            (Some("audio"), Some("PCMU"), Some(8000)) => Encoding::Mulaw8k,
            (Some("audio"), Some("L16"), Some(8000)) => Encoding::Pcm8k,
            (Some("audio"), Some("L16"), Some(16000)) => Encoding::Pcm16k,
            _ => continue,
        };
        let Some(channels) = m["channels"].as_array() else {
            continue;
        };
        let roles: Option<Vec<Arc<str>>> = channels
            .iter()
            .map(|c| match c.as_str() {
                Some("external") => Some(Arc::from("customer")),
                Some("internal") => Some(Arc::from("agent")),
                _ => None,
            })
            .collect();
        let Some(roles) =
            roles.filter(|r| (1..=2).contains(&r.len()) && (r.len() == 1 || r[0] != r[1]))
        else {
            continue;
        };
        return Ok((
            CallSpec {
                adapter: ADAPTER,
                id,
                roles,
                encoding,
                legs: false,
            },
            m,
        ));
    }
    Err(bad(
        "no offered media this server takes (audio PCMU 8000 or L16 8000/16000, channels external/internal)"
            .into(),
    ))
}

/// The server side of one AudioHook session: sequence numbers and the session id.
struct Session {
    id: Value,
    seq: u64,
    clientseq: u64,
}

impl Session {
    fn msg(&mut self, kind: &str, parameters: Value) -> Message {
        self.seq += 1;
        let v = json!({
            "version": "2",
            "type": kind,
            "seq": self.seq,
            "clientseq": self.clientseq,
            "id": self.id,
            "parameters": parameters,
        });
        Message::Text(v.to_string().into())
    }
}

async fn run(app: Arc<App>, socket: WebSocket, guard: ConnGuard) {
    let (mut sink, mut stream) = socket.split();
    let idle = Duration::from_millis(app.config.limits.ws_idle_timeout_ms);
    let write = app.config.limits.write_timeout();
    let forever = Duration::from_secs(86_400 * 365);
    let mut s = Session {
        id: Value::Null,
        seq: 0,
        clientseq: 0,
    };
    let mut call: Option<Attached> = None;
    let mut clean = false;
    loop {
        let wait = if call.is_none() { idle } else { forever };
        tokio::select! {
            frame = tokio::time::timeout(wait, stream.next()) => {
                let text = match frame {
                    Ok(Some(Ok(Message::Text(t)))) => t,
                    Ok(Some(Ok(Message::Binary(b)))) => {
                        match call.as_ref() {
                            Some(a) => {
                                if !a.audio(None, b.to_vec()).await {
                                    break;
                                }
                            }
                            None => {
                                super::rejected(ADAPTER, "protocol");
                                let m = s.msg("disconnect", json!({"reason": "error", "info": "audio before open"}));
                                let _ = sink.send(m).await;
                                close(&mut sink, 1008, "audio before open").await;
                                break;
                            }
                        }
                        continue;
                    }
                    Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                    Err(_) => {
                        close(&mut sink, 1008, "no open message").await;
                        break;
                    }
                    Ok(_) => break,
                };
                let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else {
                    super::rejected(ADAPTER, "protocol");
                    close(&mut sink, 1003, "not JSON").await;
                    break;
                };
                if let Some(seq) = v["seq"].as_u64() {
                    s.clientseq = seq;
                }
                if s.id.is_null() {
                    s.id = v["id"].clone();
                }
                let reply = match (v["type"].as_str(), call.is_some()) {
                    (Some("open"), false) => match spec_of(&v) {
                        Ok((spec, media)) => match super::join(&app, spec).await {
                            Ok(a) => {
                                call = Some(a);
                                Some(s.msg("opened", json!({"startPaused": false, "media": [media]})))
                            }
                            Err(e) => {
                                super::rejected(ADAPTER, e.code);
                                let m = s.msg("disconnect", json!({"reason": "error", "info": e.message}));
                                let _ = sink.send(m).await;
                                close(&mut sink, 1008, "call refused").await;
                                break;
                            }
                        },
                        Err(e) => {
                            super::rejected(ADAPTER, "protocol");
                            let m = s.msg("disconnect", json!({"reason": "error", "info": e.message}));
                            let _ = sink.send(m).await;
                            close(&mut sink, 1008, "bad open message").await;
                            break;
                        }
                    },
                    (Some("ping"), _) => Some(s.msg("pong", json!({}))),
                    (Some("update"), _) => Some(s.msg("updated", json!({}))),
                    (Some("close"), _) => {
                        let m = s.msg("closed", json!({}));
                        let _ = tokio::time::timeout(write, sink.send(m)).await;
                        clean = true;
                        break;
                    }
                    (Some("paused" | "resumed" | "discarded" | "error"), _) => None,
                    (_, false) => {
                        super::rejected(ADAPTER, "protocol");
                        let m = s.msg("disconnect", json!({"reason": "error", "info": "expected open"}));
                        let _ = sink.send(m).await;
                        close(&mut sink, 1008, "expected open").await;
                        break;
                    }
                    _ => None,
                };
                if let Some(m) = reply {
                    if !matches!(tokio::time::timeout(write, sink.send(m)).await, Ok(Ok(()))) {
                        break;
                    }
                }
            },
            ev = async {
                match call.as_mut() {
                    Some(a) => a.back.recv().await,
                    None => std::future::pending().await,
                }
            } => {
                if ev.is_none() {
                    // The call ended under us (shutdown): tell Genesys it is complete.
                    let m = s.msg("disconnect", json!({"reason": "completed"}));
                    let _ = tokio::time::timeout(write, sink.send(m)).await;
                    clean = true;
                    break;
                }
            }
        }
    }
    if let Some(a) = call {
        a.detach(clean).await;
    }
    let _ = tokio::time::timeout(write, sink.close()).await;
    drop(guard);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_takes_the_first_media_it_can_and_maps_channels() {
        let open = json!({"version": "2", "type": "open", "seq": 1, "id": "s1", "parameters": {
        "conversationId": "conv-1",
        "media": [
            {"type": "audio", "format": "opus", "channels": ["external", "internal"], "rate": 48000},
            {"type": "audio", "format": "PCMU", "channels": ["external", "internal"], "rate": 8000}
        ]}});
        let (spec, media) = spec_of(&open).unwrap();
        assert_eq!(spec.id, "conv-1");
        assert_eq!(spec.roles, vec![Arc::from("customer"), Arc::from("agent")]);
        assert_eq!(spec.encoding, Encoding::Mulaw8k);
        assert_eq!(media["format"], "PCMU");
        let l16 = json!({"parameters": {"conversationId": "c", "media": [
            {"type": "audio", "format": "L16", "channels": ["internal"], "rate": 16000}]}});
        let (spec, _) = spec_of(&l16).unwrap();
        assert_eq!((spec.roles.len(), spec.encoding), (1, Encoding::Pcm16k));
        let none = json!({"parameters": {"conversationId": "c", "media": [
            {"type": "audio", "format": "PCMU", "channels": ["external", "external"], "rate": 8000}]}});
        assert!(
            spec_of(&none)
                .unwrap_err()
                .message
                .contains("no offered media")
        );
        let no_id = json!({"parameters": {"media": []}});
        assert!(
            spec_of(&no_id)
                .unwrap_err()
                .message
                .contains("conversationId")
        );
    }
}
