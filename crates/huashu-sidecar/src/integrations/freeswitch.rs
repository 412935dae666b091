//! FreeSWITCH `mod_audio_fork` (drachtio; WebSocket subprotocol `audio.drachtio.org`) and
//! `mod_audio_stream`: a JSON metadata text frame first (`conversation_id`, `sample_rate` 8000|16000,
//! `channels` 1|2, `agent` left|right for stereo or `role` for mono), then binary frames of 16-bit
//! little-endian PCM (stereo interleaved). Findings, hints, final transcripts and the final score go back
//! as text frames `{"type":"json","data":<the sidecar's message>}`, which both modules raise as a
//! `mod_audio_fork::json` / `mod_audio_stream::json` event (the reference build of mod_audio_fork drops
//! JSON without a type it knows, so the message rides in `data`).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use huashu_audio::live::Encoding;
use serde::Deserialize;
use serde_json::Value;

use super::call::Attached;
use super::close;
use crate::app::{App, ConnGuard};
use crate::call_registry::CallSpec;
use crate::conv::{Event, key_of};
use crate::protocol::{ProtoError, code};

const ADAPTER: &str = "freeswitch";
/// The subprotocol mod_audio_fork asks for (`MOD_AUDIO_FORK_SUBPROTOCOL_NAME`'s default).
pub const SUBPROTOCOL: &str = "audio.drachtio.org";

#[derive(Deserialize)]
pub(super) struct Q {
    ticket: Option<String>,
    token: Option<String>,
}

pub(super) async fn upgrade(
    State(app): State<Arc<App>>,
    Query(q): Query<Q>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let enabled = app.config.integrations.freeswitch.enabled;
    let ws = ws.protocols([SUBPROTOCOL]);
    super::upgrade(
        app,
        ws,
        ADAPTER,
        ("FreeSWITCH", enabled),
        |app| {
            let authorized = match &app.config.integrations.freeswitch.token {
                Some(t) => q.token.as_deref() == Some(t.as_str()),
                None => super::bearer_or_ticket(app, &headers, q.ticket.as_deref()),
            };
            if authorized {
                Ok(())
            } else {
                Err(
                    "missing or invalid token (?token=, or the sidecar's bearer token or ticket)"
                        .into(),
                )
            }
        },
        run,
    )
}

/// The metadata frame (other fields the dialplan adds are ignored).
#[derive(Debug, Deserialize)]
struct Metadata {
    conversation_id: Value,
    sample_rate: u32,
    channels: u8,
    #[serde(default)]
    agent: Option<String>,
    #[serde(default)]
    role: Option<String>,
}

/// The call a metadata frame describes.
fn spec_of(text: &str) -> Result<CallSpec, ProtoError> {
    let bad = |m: String| ProtoError::new(code::BAD_MESSAGE, format!("metadata: {m}"));
    let m: Metadata = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    let id = key_of(&m.conversation_id).map_err(|e| bad(e.message))?;
    let encoding = match m.sample_rate {
        8000 => Encoding::Pcm8k,
        16000 => Encoding::Pcm16k,
        r => return Err(bad(format!("sample_rate {r}: expected 8000 or 16000"))),
    };
    let roles: Vec<Arc<str>> = match (m.channels, m.agent.as_deref(), m.role.as_deref()) {
        (2, Some("left"), _) => vec!["agent".into(), "customer".into()],
        (2, Some("right"), _) => vec!["customer".into(), "agent".into()],
        (2, other, _) => {
            return Err(bad(format!(
                "agent {other:?}: a stereo stream needs \"agent\": \"left\" or \"right\""
            )));
        }
        (1, _, Some(r @ ("agent" | "customer"))) => vec![r.into()],
        (1, _, other) => {
            return Err(bad(format!(
                "role {other:?}: a mono stream needs \"role\": \"agent\" or \"customer\""
            )));
        }
        (n, _, _) => return Err(bad(format!("channels {n}: expected 1 or 2"))),
    };
    Ok(CallSpec {
        adapter: ADAPTER,
        id,
        roles,
        encoding,
        legs: false,
    })
}

/// What goes back to FreeSWITCH: final transcripts, findings and hints, errors and the final score.
fn for_platform(e: &Event) -> Option<String> {
    let wanted = match e.name {
        "finding" | "hint" | "score" | "transcript" => !e.partial,
        "error" => true,
        _ => false,
    };
    wanted.then(|| format!(r#"{{"type":"json","data":{}}}"#, e.data))
}

async fn refuse(
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    e: &ProtoError,
    code: u16,
    reason: &'static str,
) {
    super::rejected(ADAPTER, "protocol");
    let msg = format!(
        r#"{{"type":"json","data":{}}}"#,
        crate::protocol::error_json(e, None)
    );
    let _ = sink.send(Message::Text(msg.into())).await;
    close(sink, code, reason).await;
}

async fn run(app: Arc<App>, socket: WebSocket, guard: ConnGuard) {
    let (mut sink, mut stream) = socket.split();
    let idle = Duration::from_millis(app.config.limits.ws_idle_timeout_ms);
    let write = app.config.limits.write_timeout();
    // The metadata comes first.
    let spec = loop {
        match tokio::time::timeout(idle, stream.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => match spec_of(t.as_str()) {
                Ok(s) => break s,
                Err(e) => return refuse(&mut sink, &e, 1008, "bad metadata").await,
            },
            Ok(Some(Ok(Message::Binary(_)))) => {
                let e = ProtoError::new(
                    code::NO_SESSION,
                    "audio before the metadata frame: send the JSON metadata first",
                );
                return refuse(&mut sink, &e, 1008, "audio before metadata").await;
            }
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
            Err(_) => {
                let e = ProtoError::new(code::IDLE, "no metadata frame within ws_idle_timeout_ms");
                return refuse(&mut sink, &e, 1008, "no metadata").await;
            }
            _ => return,
        }
    };
    let mut call: Attached = match super::join(&app, spec).await {
        Ok(a) => a,
        Err(e) => {
            let close_code = if e.code == code::CAPACITY { 1013 } else { 1008 };
            return refuse(&mut sink, &e, close_code, "call refused").await;
        }
    };
    let mut clean = false;
    loop {
        tokio::select! {
            frame = stream.next() => match frame {
                Some(Ok(Message::Binary(b))) => {
                    if !call.audio(None, b.to_vec()).await {
                        break;
                    }
                }
                Some(Ok(Message::Text(_) | Message::Ping(_) | Message::Pong(_))) => {}
                // The module closes the socket when the fork stops or the channel hangs up.
                Some(Ok(Message::Close(_))) => {
                    clean = true;
                    break;
                }
                Some(Err(_)) | None => break,
            },
            ev = call.back.recv() => match ev {
                Some(e) => {
                    if let Some(text) = for_platform(&e) {
                        if !matches!(tokio::time::timeout(write, sink.send(Message::Text(text.into()))).await, Ok(Ok(()))) {
                            break;
                        }
                    }
                }
                None => {
                    // The call ended (shutdown): its final score was the last message.
                    close(&mut sink, 1001, "call ended").await;
                    clean = true;
                    break;
                }
            },
        }
    }
    call.detach(clean).await;
    let _ = tokio::time::timeout(write, sink.close()).await;
    drop(guard);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_maps_channels_to_roles_and_names_what_is_wrong() {
        let s = spec_of(r#"{"conversation_id":"c1","sample_rate":8000,"channels":2,"agent":"right","callid":"x"}"#).unwrap();
        assert_eq!(s.id, "c1");
        assert_eq!(s.roles, vec![Arc::from("customer"), Arc::from("agent")]);
        assert_eq!(s.encoding, Encoding::Pcm8k);
        let s = spec_of(r#"{"conversation_id":7,"sample_rate":16000,"channels":1,"role":"agent"}"#)
            .unwrap();
        assert_eq!((s.id.as_str(), s.encoding), ("7", Encoding::Pcm16k));
        for (bad, says) in [
            (
                r#"{"conversation_id":"c","sample_rate":44100,"channels":1,"role":"agent"}"#,
                "sample_rate 44100",
            ),
            (
                r#"{"conversation_id":"c","sample_rate":8000,"channels":2}"#,
                "stereo stream needs",
            ),
            (
                r#"{"conversation_id":"c","sample_rate":8000,"channels":1,"role":"boss"}"#,
                "mono stream needs",
            ),
            (
                r#"{"conversation_id":"c","sample_rate":8000,"channels":3,"role":"agent"}"#,
                "channels 3",
            ),
            (
                r#"{"sample_rate":8000,"channels":1,"role":"agent"}"#,
                "conversation_id",
            ),
            (
                r#"{"conversation_id":[],"sample_rate":8000,"channels":1,"role":"agent"}"#,
                "string or a number",
            ),
            ("not json", "metadata:"),
        ] {
            let e = spec_of(bad).unwrap_err();
            assert_eq!(e.code, code::BAD_MESSAGE);
            assert!(e.message.contains(says), "{bad}: {}", e.message);
        }
    }
}
