//! The wire protocol (docs/protocol.md): client messages in, server messages out, all JSON objects with a
//! `"type"`.

use huashu::Role;
use huashu::wire::{FindingOut, ScoreOut};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Error codes sent in `{"type":"error","code",…}` (and in REST error bodies).
pub mod code {
    pub const BAD_JSON: &str = "bad_json";
    pub const BAD_MESSAGE: &str = "bad_message";
    pub const UNKNOWN_TYPE: &str = "unknown_type";
    pub const NO_SESSION: &str = "no_session";
    pub const SESSION_ACTIVE: &str = "session_active";
    pub const UNKNOWN_RULESET: &str = "unknown_ruleset";
    pub const FRAME_TOO_LARGE: &str = "frame_too_large";
    pub const CAPACITY: &str = "capacity";
    pub const UNAUTHORIZED: &str = "unauthorized";
    pub const SHUTTING_DOWN: &str = "shutting_down";
    pub const SLOW_CONSUMER: &str = "slow_consumer";
    pub const BINARY: &str = "binary_frame";
    pub const NOT_FOUND: &str = "not_found";
    pub const CONFLICT: &str = "conflict";
    /// One input's messages would exceed `max_output_bytes`: the rest of its findings were not sent.
    pub const OUTPUT_TOO_LARGE: &str = "output_too_large";
    /// A WebSocket frame that breaks the protocol (invalid UTF-8 in a text frame, a reserved opcode…).
    pub const BAD_FRAME: &str = "bad_frame";
    /// An HTTP request the router refuses (a malformed path, a missing upgrade header…).
    pub const BAD_REQUEST: &str = "bad_request";
    /// An HTTP method the route does not have (405).
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    /// The server failed (5xx).
    pub const INTERNAL: &str = "internal";
    /// A foreign `Origin` or `Host` (403).
    pub const FORBIDDEN: &str = "forbidden";
    /// A WebSocket with no session in progress for `ws_idle_timeout_ms` (closed 1008).
    pub const IDLE: &str = "idle";
    /// An HTTP body not sent within `body_timeout_ms` (408).
    pub const TIMEOUT: &str = "timeout";
    /// `audio.start` on a daemon with no Whisper model (or built without the `audio` feature).
    pub const AUDIO_UNAVAILABLE: &str = "audio_unavailable";
    /// `audio.start` while a stream is still open or draining (wait for `audio.ended`).
    pub const AUDIO_ACTIVE: &str = "audio_active";
    /// A binary frame or `audio.end` without an open audio stream.
    pub const NO_AUDIO: &str = "no_audio";
    /// A binary frame that is not valid audio in the stream's encoding (the frame is dropped).
    pub const BAD_AUDIO: &str = "bad_audio";
    /// The recogniser failed on an utterance (the stream goes on).
    pub const AUDIO_FAILED: &str = "audio_failed";
}

/// WebSocket close codes the server uses.
pub mod close {
    /// Normal end (client asked).
    pub const NORMAL: u16 = 1000;
    /// Server shutting down (SIGTERM): the final score was sent first.
    pub const GOING_AWAY: u16 = 1001;
    /// A frame over `max_frame_bytes`.
    pub const TOO_BIG: u16 = 1009;
    /// A frame that breaks the protocol (a reserved opcode, a bad close code).
    pub const PROTOCOL: u16 = 1002;
    /// A text frame that is not UTF-8.
    pub const INVALID_DATA: u16 = 1007;
    /// At capacity: try again later.
    pub const TRY_AGAIN: u16 = 1013;
    /// The client did not read its messages within `write_timeout_ms`.
    pub const POLICY: u16 = 1008;
}

/// The fields of an utterance (WebSocket `utterance` and the REST body).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Utterance {
    pub role: String,
    pub text: String,
    #[serde(rename = "final", default = "yes")]
    pub is_final: bool,
    #[serde(default)]
    pub start_ms: Option<u64>,
    #[serde(default)]
    pub end_ms: Option<u64>,
    /// Echoed as `ref` on every message this input produces.
    #[serde(default, rename = "ref")]
    pub reference: Option<Value>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Start {
    pub conversation_id: Value,
    #[serde(default)]
    pub ruleset: Option<String>,
    /// Rule ids switched off for this conversation only.
    #[serde(default)]
    pub disable: Vec<String>,
    #[serde(default)]
    pub metadata: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Draft {
    pub text: String,
    #[serde(default, rename = "ref")]
    pub reference: Option<Value>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Empty {
    #[serde(default, rename = "ref")]
    pub reference: Option<Value>,
}

/// `audio.start`: binary frames that follow are this role's audio.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AudioStart {
    pub role: String,
    /// `pcm_s16le_16k` or `mulaw_8k`.
    pub encoding: String,
    /// `zh`, `en` or `auto` (default: the daemon's `audio.language`).
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default, rename = "ref")]
    pub reference: Option<Value>,
}

/// A parsed client message.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum In {
    Start(Start),
    Utterance(Utterance),
    Draft(Draft),
    Score(Empty),
    End(Empty),
    AudioStart(AudioStart),
    AudioEnd(Empty),
}

/// Message types a client may send.
pub const IN_TYPES: &[&str] = &[
    "session.start",
    "utterance",
    "draft",
    "score",
    "session.end",
    "audio.start",
    "audio.end",
];

/// A protocol error: a code and a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProtoError {
    pub code: &'static str,
    pub message: String,
}

impl ProtoError {
    pub fn new(code: &'static str, message: impl Into<String>) -> ProtoError {
        ProtoError {
            code,
            message: message.into(),
        }
    }
}

/// Parses one text frame.
///
/// # Errors
/// `bad_json`, `bad_message` (missing/invalid fields) or `unknown_type`.
pub fn parse(text: &str) -> Result<In, ProtoError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| ProtoError::new(code::BAD_JSON, format!("invalid JSON: {e}")))?;
    let Value::Object(mut obj) = value else {
        return Err(ProtoError::new(
            code::BAD_MESSAGE,
            "expected a JSON object with a \"type\"",
        ));
    };
    let kind = match obj.remove("type") {
        Some(Value::String(s)) => s,
        Some(_) => {
            return Err(ProtoError::new(
                code::BAD_MESSAGE,
                "field \"type\" must be a string",
            ));
        }
        None => return Err(ProtoError::new(code::BAD_MESSAGE, "missing field \"type\"")),
    };
    let rest = Value::Object(obj);
    fn fields<T: serde::de::DeserializeOwned>(kind: &str, v: Value) -> Result<T, ProtoError> {
        serde_json::from_value(v)
            .map_err(|e| ProtoError::new(code::BAD_MESSAGE, format!("{kind}: {e}")))
    }
    match kind.as_str() {
        "session.start" => fields(&kind, rest).map(In::Start),
        "utterance" => fields(&kind, rest).map(In::Utterance),
        "draft" => fields(&kind, rest).map(In::Draft),
        "score" => fields(&kind, rest).map(In::Score),
        "session.end" => fields(&kind, rest).map(In::End),
        "audio.start" => fields(&kind, rest).map(In::AudioStart),
        "audio.end" => fields(&kind, rest).map(In::AudioEnd),
        other => Err(ProtoError::new(
            code::UNKNOWN_TYPE,
            format!(
                "unknown message type {:?}; expected one of {}",
                truncate(other, 40),
                IN_TYPES.join(", ")
            ),
        )),
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Parses a role name.
///
/// # Errors
/// `bad_message` for anything but agent, customer, system.
pub fn role(s: &str) -> Result<Role, ProtoError> {
    Role::parse(s).ok_or_else(|| {
        ProtoError::new(
            code::BAD_MESSAGE,
            format!(
                "unknown role {:?} (expected \"agent\", \"customer\" or \"system\")",
                truncate(s, 40)
            ),
        )
    })
}

/// Where a turn's findings came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Source {
    Utterance,
    Draft,
}

// ---- outgoing messages ----------------------------------------------------------------------------------

/// A message the server sends, tagged with its `"type"` (always the first field on the wire, then the
/// fields of the variant's struct in declaration order).
///
/// `audio.started` is not here: it is written with `json!`, whose keys go out in alphabetical order
/// (`encoding, ref, role, sample_rate, type`), and that order is kept on the wire.
#[derive(Debug, Serialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum ServerMsg<'a> {
    #[serde(rename = "session.started")]
    Started(StartedMsg<'a>),
    #[serde(rename = "finding")]
    Finding(FindingMsg<'a>),
    #[serde(rename = "hint")]
    Hint(HintMsg<'a>),
    #[serde(rename = "ack")]
    Ack(AckMsg<'a>),
    #[serde(rename = "ruleset")]
    Ruleset(RulesetMsg<'a>),
    #[serde(rename = "score")]
    Score(ScoreMsg<'a>),
    #[serde(rename = "transcript")]
    Transcript(TranscriptMsg<'a>),
    #[serde(rename = "audio.ended")]
    AudioEnded(AudioEndedMsg<'a>),
    #[serde(rename = "error")]
    Error(ErrorMsg<'a>),
}

impl ServerMsg<'_> {
    /// The `"type"` of the message (also the SSE event name).
    pub fn type_name(&self) -> &'static str {
        match self {
            ServerMsg::Started(_) => "session.started",
            ServerMsg::Finding(_) => "finding",
            ServerMsg::Hint(_) => "hint",
            ServerMsg::Ack(_) => "ack",
            ServerMsg::Ruleset(_) => "ruleset",
            ServerMsg::Score(_) => "score",
            ServerMsg::Transcript(_) => "transcript",
            ServerMsg::AudioEnded(_) => "audio.ended",
            ServerMsg::Error(_) => "error",
        }
    }

    /// The message as one JSON text.
    pub fn to_json(&self) -> String {
        to_json(self)
    }
}

#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct StartedMsg<'a> {
    pub conversation_id: &'a Value,
    pub ruleset: &'a str,
}

/// Fields every per-turn message carries.
#[derive(Debug, Serialize, Clone, Copy)]
#[non_exhaustive]
pub struct TurnRef<'a> {
    pub conversation_id: &'a Value,
    pub turn: usize,
    #[serde(rename = "final")]
    pub is_final: bool,
    pub source: Source,
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<&'a Value>,
}

#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct FindingMsg<'a> {
    #[serde(flatten)]
    pub at: TurnRef<'a>,
    #[serde(flatten)]
    pub finding: FindingOut<'a>,
}

#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct HintMsg<'a> {
    #[serde(flatten)]
    pub at: TurnRef<'a>,
    /// `suggestion` (a compliant wording for one finding), `rewrite` (the whole turn with the safe
    /// suggestions applied) or `coaching` (a scorecard tip).
    pub hint: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<&'a str>,
    pub text: &'a str,
}

#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct AckMsg<'a> {
    #[serde(flatten)]
    pub at: TurnRef<'a>,
    pub findings: usize,
    pub ruleset: &'a str,
}

#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct RulesetMsg<'a> {
    pub conversation_id: &'a Value,
    pub ruleset: &'a str,
    pub previous: &'a str,
}

#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct ScoreMsg<'a> {
    #[serde(rename = "final")]
    pub is_final: bool,
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<&'a Value>,
    #[serde(flatten)]
    pub score: ScoreOut<'a>,
}

/// What live audio was heard as (before its findings, which follow as for an `utterance`).
#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct TranscriptMsg<'a> {
    pub conversation_id: &'a Value,
    pub role: &'a str,
    pub text: &'a str,
    #[serde(rename = "final")]
    pub is_final: bool,
    pub start_ms: u64,
    pub end_ms: u64,
    /// Index of the utterance in the audio stream (its partials and final share it).
    pub utterance: u64,
    pub confidence: f32,
}

/// The end of an audio stream: every final transcript has been sent.
#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct AudioEndedMsg<'a> {
    pub role: &'a str,
    pub utterances: u64,
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<&'a Value>,
}

#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct ErrorMsg<'a> {
    pub code: &'a str,
    pub message: &'a str,
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<&'a Value>,
}

/// Serialises an outgoing message (these types cannot fail to serialise; a failure yields an error message).
pub fn to_json<T: Serialize>(msg: &T) -> String {
    serde_json::to_string(msg).unwrap_or_else(|e| {
        format!(
            "{{\"type\":\"error\",\"code\":\"internal\",\"message\":{}}}",
            Value::String(e.to_string())
        )
    })
}

/// An error message.
pub fn error_json(e: &ProtoError, reference: Option<&Value>) -> String {
    to_json(&ServerMsg::Error(ErrorMsg {
        code: e.code,
        message: &e.message,
        reference,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use huashu::{Engine, Role};
    use serde_json::json;

    /// The wire bytes of each message: `"type"` first, then the fields in the order they had when every
    /// struct carried its own `kind` string (the serde tag must not reorder or rename anything).
    #[test]
    fn tagged_messages_keep_their_bytes_and_field_order() {
        let id = json!("c-1");
        let r = json!({"n": 1});
        let at = TurnRef {
            conversation_id: &id,
            turn: 2,
            is_final: true,
            source: Source::Utterance,
            reference: Some(&r),
        };
        let cases: Vec<(ServerMsg<'_>, &str)> = vec![
            (
                ServerMsg::Started(StartedMsg {
                    conversation_id: &id,
                    ruleset: "zh-CN@1",
                }),
                r#"{"type":"session.started","conversation_id":"c-1","ruleset":"zh-CN@1"}"#,
            ),
            (
                ServerMsg::Hint(HintMsg {
                    at,
                    hint: "suggestion",
                    rule: Some("SH001"),
                    check: None,
                    text: "我来帮您",
                }),
                r#"{"type":"hint","conversation_id":"c-1","turn":2,"final":true,"source":"utterance","ref":{"n":1},"hint":"suggestion","rule":"SH001","text":"我来帮您"}"#,
            ),
            (
                ServerMsg::Ack(AckMsg {
                    at: TurnRef {
                        reference: None,
                        is_final: false,
                        source: Source::Draft,
                        ..at
                    },
                    findings: 0,
                    ruleset: "zh-CN@1",
                }),
                r#"{"type":"ack","conversation_id":"c-1","turn":2,"final":false,"source":"draft","findings":0,"ruleset":"zh-CN@1"}"#,
            ),
            (
                ServerMsg::Ruleset(RulesetMsg {
                    conversation_id: &id,
                    ruleset: "b",
                    previous: "a",
                }),
                r#"{"type":"ruleset","conversation_id":"c-1","ruleset":"b","previous":"a"}"#,
            ),
            (
                ServerMsg::Transcript(TranscriptMsg {
                    conversation_id: &id,
                    role: "agent",
                    text: "您好",
                    is_final: true,
                    start_ms: 10,
                    end_ms: 900,
                    utterance: 0,
                    confidence: 0.5,
                }),
                r#"{"type":"transcript","conversation_id":"c-1","role":"agent","text":"您好","final":true,"start_ms":10,"end_ms":900,"utterance":0,"confidence":0.5}"#,
            ),
            (
                ServerMsg::AudioEnded(AudioEndedMsg {
                    role: "customer",
                    utterances: 3,
                    reference: None,
                }),
                r#"{"type":"audio.ended","role":"customer","utterances":3}"#,
            ),
        ];
        for (msg, want) in cases {
            let name = msg.type_name();
            let got = msg.to_json();
            assert_eq!(got, want);
            assert!(got.starts_with(&format!("{{\"type\":\"{name}\",")));
        }
        let e = ProtoError::new(code::NO_SESSION, "no conversation");
        assert_eq!(
            error_json(&e, Some(&r)),
            r#"{"type":"error","code":"no_session","message":"no conversation","ref":{"n":1}}"#
        );
    }

    /// Messages with flattened parts: the tag, then each part's fields in order, as with a `kind` field.
    #[test]
    fn flattened_messages_keep_field_order() {
        let engine = Engine::default_ruleset().unwrap();
        let findings = engine.check(Role::Agent, "这不是我的问题");
        assert!(!findings.is_empty());
        let id = json!(7);
        let at = TurnRef {
            conversation_id: &id,
            turn: 0,
            is_final: true,
            source: Source::Utterance,
            reference: None,
        };
        let inner = |v: String| v[1..v.len() - 1].to_string();
        let finding = FindingOut::from(&findings[0]);
        let want = format!(
            "{{\"type\":\"finding\",{},{}}}",
            inner(to_json(&at)),
            inner(to_json(&finding))
        );
        let got = ServerMsg::Finding(FindingMsg { at, finding }).to_json();
        assert_eq!(got, want);
        let mut session = huashu::Session::new(std::sync::Arc::new(engine));
        session.push(huashu::Turn::agent("您好，请问有什么可以帮您？"));
        let report = session.report();
        let score = ScoreOut::new(&id, &report);
        let want = format!(
            "{{\"type\":\"score\",\"final\":false,{}}}",
            inner(to_json(&score))
        );
        let got = ServerMsg::Score(ScoreMsg {
            is_final: false,
            reference: None,
            score: ScoreOut::new(&id, &report),
        })
        .to_json();
        assert_eq!(got, want);
    }
}
