//! Twilio Media Streams (`<Connect><Stream>` or `<Start><Stream track="both_tracks">`): JSON text frames
//! `connected`, `start` (`start.callSid` = the conversation id, `tracks`, `mediaFormat` audio/x-mulaw
//! 8000 Hz mono), `media` (`media.track` inbound|outbound, `media.payload` base64 μ-law), `stop`; `mark` and
//! `dtmf` are ignored. The `inbound` track is the caller (`[integrations.twilio] inbound`, default
//! customer), `outbound` the other party. Media Streams have no channel for hints: they go to SSE
//! listeners. With `auth_token` set, `X-Twilio-Signature` must sign the stream's URL.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{OriginalUri, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use futures_util::{SinkExt, StreamExt};
use huashu_audio::live::Encoding;
use serde::Deserialize;
use serde_json::Value;

use super::call::Attached;
use super::close;
use crate::app::{App, ConnGuard};
use crate::call_registry::CallSpec;
use crate::conv::key_of;
use crate::protocol::{ProtoError, code};

const ADAPTER: &str = "twilio";

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
    let enabled = app.config.integrations.twilio.enabled;
    super::upgrade(
        app,
        ws,
        ADAPTER,
        ("Twilio", enabled),
        |app| {
            let cfg = &app.config.integrations.twilio;
            let Some(token) = &cfg.auth_token else {
                return super::sidecar_credentials(app, &headers, q.ticket.as_deref());
            };
            let url = match &cfg.url {
                Some(u) => u.clone(),
                None => {
                    let host = headers
                        .get("host")
                        .and_then(|h| h.to_str().ok())
                        .unwrap_or("");
                    format!("wss://{host}{uri}")
                }
            };
            let sig = headers
                .get("x-twilio-signature")
                .and_then(|h| h.to_str().ok())
                .unwrap_or("");
            if super::sign::twilio_valid(token, &url, sig) {
                Ok(())
            } else {
                Err("missing or invalid X-Twilio-Signature".into())
            }
        },
        run,
    )
}

/// Which party each track feeds (None: the stream does not carry that track).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tracks {
    inbound: Option<usize>,
    outbound: Option<usize>,
}

/// The call a `start` message describes, and the party of each track. Only the tracks the stream
/// carries (`start.tracks`) become parties: a party that is never heard would hold the other's finals.
fn spec_of(start: &Value, inbound: &str) -> Result<(CallSpec, Tracks), ProtoError> {
    let bad = |m: String| ProtoError::new(code::BAD_MESSAGE, format!("start: {m}"));
    let s = &start["start"];
    let id = key_of(&s["callSid"]).map_err(|e| bad(format!("callSid: {}", e.message)))?;
    let f = &s["mediaFormat"];
    if !f.is_null()
        && (f["encoding"] != "audio/x-mulaw" || f["sampleRate"] != 8000 || f["channels"] != 1)
    {
        return Err(bad(format!(
            "mediaFormat {f}: expected audio/x-mulaw, 8000 Hz, 1 channel"
        )));
    }
    let (in_role, out_role) = match inbound {
        "customer" => ("customer", "agent"),
        "agent" => ("agent", "customer"),
        other => {
            return Err(bad(format!(
                "[integrations.twilio] inbound = {other:?}: agent or customer"
            )));
        }
    };
    let listed: Vec<&str> = s["tracks"]
        .as_array()
        .map(|t| t.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let (has_in, has_out) = if listed.is_empty() {
        (true, true)
    } else {
        (listed.contains(&"inbound"), listed.contains(&"outbound"))
    };
    if !has_in && !has_out {
        return Err(bad(format!(
            "tracks {listed:?}: expected inbound and/or outbound"
        )));
    }
    // Agent first, as the other adapters (a tie in start time goes to the agent, as offline).
    let roles: Vec<Arc<str>> = ["agent", "customer"]
        .into_iter()
        .filter(|r| (*r == in_role && has_in) || (*r == out_role && has_out))
        .map(Arc::from)
        .collect();
    let at = |role: &str| roles.iter().position(|r| &**r == role);
    let tracks = Tracks {
        inbound: if has_in { at(in_role) } else { None },
        outbound: if has_out { at(out_role) } else { None },
    };
    Ok((
        CallSpec {
            adapter: ADAPTER,
            id,
            roles,
            encoding: Encoding::Mulaw8k,
            legs: false,
        },
        tracks,
    ))
}

async fn run(app: Arc<App>, socket: WebSocket, guard: ConnGuard) {
    let (mut sink, mut stream) = socket.split();
    let idle = Duration::from_millis(app.config.limits.ws_idle_timeout_ms);
    let write = app.config.limits.write_timeout();
    let inbound_role = app.config.integrations.twilio.inbound.clone();
    let mut call: Option<(Attached, Tracks)> = None;
    let mut clean = false;
    // Before `start`, the idle limit applies; after it, the platform paces the audio.
    let forever = Duration::from_secs(86_400 * 365);
    loop {
        let wait = if call.is_none() { idle } else { forever };
        tokio::select! {
            frame = tokio::time::timeout(wait, stream.next()) => {
                let text = match frame {
                    Ok(Some(Ok(Message::Text(t)))) => t,
                    Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                    Ok(Some(Ok(Message::Binary(_)))) => {
                        super::rejected(ADAPTER, "protocol");
                        close(&mut sink, 1003, "binary frame").await;
                        break;
                    }
                    Err(_) => {
                        close(&mut sink, 1008, "no start message").await;
                        break;
                    }
                    // A close frame, an error, or the end: abrupt unless `stop` came first.
                    Ok(_) => break,
                };
                let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else {
                    super::rejected(ADAPTER, "protocol");
                    close(&mut sink, 1003, "not JSON").await;
                    break;
                };
                match (v["event"].as_str(), call.as_ref()) {
                    (Some("connected" | "mark" | "dtmf"), _) => {}
                    (Some("start"), None) => match spec_of(&v, &inbound_role) {
                        Ok((spec, tracks)) => match super::join(&app, spec).await {
                            Ok(a) => call = Some((a, tracks)),
                            Err(e) => {
                                super::rejected(ADAPTER, e.code);
                                let c = if e.code == code::CAPACITY { 1013 } else { 1008 };
                                close(&mut sink, c, "call refused").await;
                                break;
                            }
                        },
                        Err(_) => {
                            super::rejected(ADAPTER, "protocol");
                            close(&mut sink, 1008, "bad start message").await;
                            break;
                        }
                    },
                    (Some("media"), Some((a, tracks))) => {
                        let party = match v["media"]["track"].as_str() {
                            Some("inbound") | None => tracks.inbound,
                            Some("outbound") => tracks.outbound,
                            Some(_) => None,
                        };
                        let Some(party) = party else {
                            continue;
                        };
                        let Some(bytes) = v["media"]["payload"].as_str().and_then(|p| B64.decode(p).ok()) else {
                            super::rejected(ADAPTER, "bad_audio");
                            continue;
                        };
                        if !a.audio(Some(party), bytes).await {
                            break;
                        }
                    }
                    (Some("stop"), Some(_)) => {
                        clean = true;
                        break;
                    }
                    // Media (or a stop) before the start message: nothing says whose call it is.
                    (_, None) => {
                        super::rejected(ADAPTER, "protocol");
                        close(&mut sink, 1008, "media before start").await;
                        break;
                    }
                    _ => {}
                }
            },
            ev = async {
                match call.as_mut() {
                    Some((a, _)) => a.back.recv().await,
                    None => std::future::pending().await,
                }
            } => {
                // No channel back to Twilio: findings and hints go to SSE listeners.
                if ev.is_none() {
                    close(&mut sink, 1001, "call ended").await;
                    clean = true;
                    break;
                }
            }
        }
    }
    if let Some((a, _)) = call {
        a.detach(clean).await;
    }
    let _ = tokio::time::timeout(write, sink.close()).await;
    drop(guard);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn start_maps_call_sid_and_tracks() {
        let start = json!({"event": "start", "start": {"callSid": "CA1", "tracks": ["inbound", "outbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}});
        let (spec, tracks) = spec_of(&start, "customer").unwrap();
        assert_eq!(spec.id, "CA1");
        assert_eq!(spec.roles, vec![Arc::from("agent"), Arc::from("customer")]);
        assert_eq!(
            tracks,
            Tracks {
                inbound: Some(1),
                outbound: Some(0)
            }
        );
        assert_eq!(
            spec_of(&start, "agent").unwrap().1,
            Tracks {
                inbound: Some(0),
                outbound: Some(1)
            }
        );
        assert!(
            spec_of(&start, "boss")
                .unwrap_err()
                .message
                .contains("inbound")
        );
        // Only the caller's track: one party.
        let one = json!({"event": "start", "start": {"callSid": "CA2", "tracks": ["inbound"]}});
        let (spec, tracks) = spec_of(&one, "customer").unwrap();
        assert_eq!(spec.roles, vec![Arc::from("customer")]);
        assert_eq!(
            tracks,
            Tracks {
                inbound: Some(0),
                outbound: None
            }
        );
        let none = json!({"event": "start", "start": {"callSid": "CA3", "tracks": ["sideways"]}});
        assert!(
            spec_of(&none, "customer")
                .unwrap_err()
                .message
                .contains("tracks")
        );
        let wrong = json!({"event": "start", "start": {"callSid": "CA1",
            "mediaFormat": {"encoding": "audio/l16", "sampleRate": 16000, "channels": 1}}});
        assert!(
            spec_of(&wrong, "customer")
                .unwrap_err()
                .message
                .contains("mediaFormat")
        );
        let no_sid = json!({"event": "start", "start": {}});
        assert!(
            spec_of(&no_sid, "customer")
                .unwrap_err()
                .message
                .contains("callSid")
        );
    }
}
