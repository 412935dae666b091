//! Asterisk AudioSocket (`AudioSocket(uuid,host:port)` in the dialplan, or the `chan_audiosocket`
//! channel): a TCP stream of frames — a type byte, a big-endian u16 payload length, the payload. The
//! first frame is the UUID (`0x01`, 16 bytes); then `0x10` audio (signed 16-bit little-endian, 8 kHz,
//! mono), `0x03` a DTMF digit, `0x00` hangup, `0xff` an error. One connection carries one party, so a
//! call is two connections whose UUIDs were registered beforehand with
//! `POST /v1/integrations/audiosocket/calls {"uuid","conversation_id","role"}`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use huashu_audio::live::Encoding;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::app::App;
use crate::call_registry::{CallSpec, Registration};
use crate::conv::key_of;
use crate::protocol::{ProtoError, code};

const ADAPTER: &str = "audiosocket";

pub const KIND_HANGUP: u8 = 0x00;
pub const KIND_UUID: u8 = 0x01;
pub const KIND_DTMF: u8 = 0x03;
pub const KIND_AUDIO: u8 = 0x10;
pub const KIND_ERROR: u8 = 0xff;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Register {
    uuid: String,
    conversation_id: Value,
    role: String,
}

/// A UUID in its canonical text form (lower-case, hyphenated), or None.
fn canonical_uuid(s: &str) -> Option<String> {
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32
        || !hex.chars().all(|c| c.is_ascii_hexdigit())
        || s.len() != 36 && s.len() != 32
    {
        return None;
    }
    let h = hex.to_ascii_lowercase();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

/// `POST /v1/integrations/audiosocket/calls`: the UUID Asterisk will send, the conversation and the role
/// its audio belongs to.
pub(super) async fn register(State(app): State<Arc<App>>, body: axum::body::Bytes) -> Response {
    let r: Register = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            let c = if e.is_data() {
                code::BAD_MESSAGE
            } else {
                code::BAD_JSON
            };
            return super::error(
                StatusCode::BAD_REQUEST,
                &ProtoError::new(c, format!("invalid body: {e}")),
            );
        }
    };
    let Some(uuid) = canonical_uuid(&r.uuid) else {
        return super::error(
            StatusCode::BAD_REQUEST,
            &ProtoError::new(
                code::BAD_MESSAGE,
                format!(
                    "uuid {:?} is not a UUID",
                    r.uuid.chars().take(40).collect::<String>()
                ),
            ),
        );
    };
    let role: Arc<str> = match r.role.as_str() {
        "agent" | "customer" => Arc::from(r.role.as_str()),
        other => {
            return super::error(
                StatusCode::BAD_REQUEST,
                &ProtoError::new(
                    code::BAD_MESSAGE,
                    format!("role {other:?}: expected \"agent\" or \"customer\""),
                ),
            );
        }
    };
    let conversation_id = match key_of(&r.conversation_id) {
        Ok(k) => k,
        Err(e) => return super::error(StatusCode::BAD_REQUEST, &e),
    };
    let reg = Registration {
        conversation_id: conversation_id.clone(),
        role: Arc::clone(&role),
    };
    if let Err(e) = app.integrations.register(uuid.clone(), reg) {
        return super::error(StatusCode::SERVICE_UNAVAILABLE, &e);
    }
    (
        StatusCode::CREATED,
        axum::Json(json!({"uuid": uuid, "conversation_id": conversation_id, "role": &*role})),
    )
        .into_response()
}

/// Binds the listener of `[integrations.audiosocket] listen` (when set) and serves it until shutdown.
///
/// # Errors
/// The address cannot be bound.
pub async fn listen(app: &Arc<App>) -> std::io::Result<Option<SocketAddr>> {
    let Some(addr) = app.config.integrations.audiosocket.listen else {
        return Ok(None);
    };
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = Arc::clone(app);
    tokio::spawn(async move {
        let mut stop = app.shutdown_rx();
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                _ = stop.wait_for(|v| *v) => break,
            };
            match accepted {
                Ok((tcp, _)) => {
                    let _ = tcp.set_nodelay(true);
                    let app = Arc::clone(&app);
                    tokio::spawn(async move { serve(app, tcp).await });
                }
                Err(e) => {
                    eprintln!("huashu serve: AudioSocket accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    });
    Ok(Some(bound))
}

/// Reads one frame: (kind, payload). None at the end of the stream (or a frame cut short).
async fn read_frame(tcp: &mut TcpStream, buf: &mut Vec<u8>) -> Option<u8> {
    let mut head = [0u8; 3];
    tcp.read_exact(&mut head).await.ok()?;
    let len = usize::from(u16::from_be_bytes([head[1], head[2]]));
    buf.resize(len, 0);
    tcp.read_exact(buf).await.ok()?;
    Some(head[0])
}

/// Writes an error frame (the payload is an application error code) before closing.
async fn fail(tcp: &mut TcpStream, why: &'static str) {
    super::rejected(ADAPTER, why);
    let _ = tcp.write_all(&[KIND_ERROR, 0, 1, 1]).await;
    let _ = tcp.shutdown().await;
}

async fn serve(app: Arc<App>, mut tcp: TcpStream) {
    let Ok(guard) = super::admit(&app, ADAPTER) else {
        return fail(&mut tcp, "capacity").await;
    };
    let mut buf = Vec::with_capacity(640);
    let first = tokio::time::timeout(
        Duration::from_millis(app.config.limits.header_timeout_ms),
        read_frame(&mut tcp, &mut buf),
    )
    .await;
    let uuid = match first {
        Ok(Some(KIND_UUID)) if buf.len() == 16 => {
            let hex: String = buf.iter().map(|b| format!("{b:02x}")).collect();
            canonical_uuid(&hex)
        }
        Ok(Some(_)) => return fail(&mut tcp, "protocol").await,
        _ => return,
    };
    let Some(reg) = uuid.and_then(|u| app.integrations.registration(&u)) else {
        return fail(&mut tcp, "unknown_uuid").await;
    };
    let spec = CallSpec {
        adapter: ADAPTER,
        id: reg.conversation_id,
        roles: vec!["agent".into(), "customer".into()],
        encoding: Encoding::Pcm8k,
        legs: true,
    };
    let Ok(mut call) = super::join(&app, spec).await else {
        return fail(&mut tcp, "refused").await;
    };
    let Some(party) = call.party_of(&reg.role) else {
        call.detach(false).await;
        return;
    };
    // Reading a frame is not cancel-safe (a frame half read would be lost), so nothing races it: the
    // messages for the platform (none: AudioSocket has no text channel) are drained by a task that says
    // when the call has ended.
    let mut back = std::mem::replace(&mut call.back, tokio::sync::mpsc::channel(1).1);
    let mut ended = tokio::spawn(async move { while back.recv().await.is_some() {} });
    let mut clean = false;
    loop {
        tokio::select! {
            kind = read_frame(&mut tcp, &mut buf) => match kind {
                Some(KIND_AUDIO) => {
                    if !call.audio(Some(party), buf.clone()).await {
                        break;
                    }
                }
                Some(KIND_HANGUP) => {
                    call.party_end(party).await;
                    clean = true;
                    break;
                }
                // DTMF and errors from Asterisk change nothing in the conversation; other kinds (16 kHz
                // audio of newer versions) are not what this call was registered with.
                Some(_) => {}
                None => break,
            },
            _ = &mut ended => {
                // The call ended under us (shutdown): hang up this leg.
                let _ = tcp.write_all(&[KIND_HANGUP, 0, 0]).await;
                clean = true;
                break;
            }
        }
    }
    ended.abort();
    call.detach(clean).await;
    let _ = tcp.shutdown().await;
    drop(guard);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_canonical_or_refused() {
        assert_eq!(
            canonical_uuid("0E5F0A2C-6B49-4E0B-9C7B-0A1B2C3D4E5F").as_deref(),
            Some("0e5f0a2c-6b49-4e0b-9c7b-0a1b2c3d4e5f")
        );
        assert_eq!(
            canonical_uuid("0e5f0a2c6b494e0b9c7b0a1b2c3d4e5f").as_deref(),
            Some("0e5f0a2c-6b49-4e0b-9c7b-0a1b2c3d4e5f")
        );
        for bad in [
            "",
            "xyz",
            "0e5f0a2c-6b49-4e0b-9c7b-0a1b2c3d4e5",
            "0e5f0a2c-6b49-4e0b-9c7b-0a1b2c3d4e5g",
        ] {
            assert_eq!(canonical_uuid(bad), None, "{bad}");
        }
    }
}
