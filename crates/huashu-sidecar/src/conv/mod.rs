//! Conversations by id, shared by the WebSocket, REST and SSE paths: the same `Session`, the same findings.
//! One conversation and what a turn emits here; the registry of them (start, listen, end, reap) in
//! `registry.rs`.

pub mod registry;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use huashu::wire::{FindingOut, ScoreOut};
use huashu::{CheckId, LastExchange, Role, Session, Tolerance, Turn};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::engines::Engines;
use crate::metrics as m;
use crate::protocol::{
    AckMsg, Draft, FindingMsg, HintMsg, ProtoError, RulesetMsg, ScoreMsg, ServerMsg, Source,
    TurnRef, Utterance, code, error_json, role,
};

/// Scorecard checks worth a live coaching hint the moment they fail (the others are judged at the end).
const LIVE_CHECKS: &[CheckId] = &[
    CheckId::Greeting,
    CheckId::Empathy,
    CheckId::Prompt,
    CheckId::Hold,
    CheckId::EscalationTime,
    CheckId::FirstResponse,
    CheckId::Silence,
    CheckId::TalkOver,
    CheckId::SpeechRate,
];

/// Events buffered per SSE listener before it starts missing some (it is told how many).
const EVENT_BUFFER: usize = 256;

/// One outgoing message.
#[derive(Debug, Clone)]
pub struct Event {
    /// The message `type` (also the SSE event name).
    pub name: &'static str,
    pub data: Arc<str>,
    /// Derived from a partial utterance or a draft: may be superseded (dropped) under pressure.
    pub partial: bool,
    /// The final score: the conversation is over.
    pub last: bool,
}

impl Event {
    /// A typed server message; its `type` names the event.
    pub(crate) fn msg(msg: ServerMsg<'_>, partial: bool) -> Event {
        Event::new(msg.type_name(), msg.to_json(), partial)
    }

    pub(crate) fn new(name: &'static str, data: String, partial: bool) -> Event {
        Event {
            name,
            data: data.into(),
            partial,
            last: false,
        }
    }
}

/// The answer to one utterance or draft: the messages for the stream and the REST body.
#[derive(Debug)]
pub struct TurnOutput {
    pub events: Vec<Event>,
    pub body: Value,
}

#[derive(Debug)]
struct Inner {
    session: Option<Session>,
    follows_default: bool,
    generation: u64,
    version: String,
    /// Live checks already coached in this conversation: each is hinted once, then no longer judged.
    coached: Vec<CheckId>,
    last_active: Instant,
    ws_owned: bool,
}

/// A conversation (or, before `session.start`, a place SSE listeners wait on).
#[derive(Debug)]
pub struct Conversation {
    pub key: String,
    pub id: Value,
    inner: Mutex<Inner>,
    events: broadcast::Sender<Event>,
    /// Bytes of messages one utterance or draft may produce (`max_output_bytes`).
    max_output: usize,
}

/// The id as a map key: a string or a number.
///
/// # Errors
/// `bad_message` for any other JSON value or an over-long id.
pub fn key_of(id: &Value) -> Result<String, ProtoError> {
    let key = match id {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => {
            return Err(ProtoError::new(
                code::BAD_MESSAGE,
                "conversation_id must be a string or a number",
            ));
        }
    };
    if key.is_empty() || key.len() > 200 {
        return Err(ProtoError::new(
            code::BAD_MESSAGE,
            "conversation_id must be 1–200 bytes",
        ));
    }
    Ok(key)
}

impl Conversation {
    fn new(key: String, id: Value, max_output: usize) -> Conversation {
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        Conversation {
            key,
            id,
            inner: Mutex::new(Inner {
                session: None,
                follows_default: true,
                generation: 0,
                version: String::new(),
                coached: Vec::new(),
                last_active: Instant::now(),
                ws_owned: false,
            }),
            events,
            max_output,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Listens to everything this conversation emits (SSE).
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    pub(crate) fn publish(&self, events: &[Event]) {
        if self.events.receiver_count() > 0 {
            for e in events {
                // No listener left is not an error.
                let _ = self.events.send(e.clone());
            }
        }
    }

    pub fn is_active(&self) -> bool {
        self.lock().session.is_some()
    }

    pub fn ruleset_version(&self) -> String {
        self.lock().version.clone()
    }

    /// An utterance: a final is folded into the conversation, a partial only checked.
    ///
    /// # Errors
    /// `no_session` when the conversation has ended; `bad_message` for an unknown role.
    pub fn utterance(&self, engines: &Engines, u: &Utterance) -> Result<TurnOutput, ProtoError> {
        self.utterance_from(engines, u, false)
    }

    /// An utterance from a REST client: `conflict` when a WebSocket owns the conversation.
    ///
    /// # Errors
    /// `conflict`, or as [`Conversation::utterance`].
    pub fn rest_utterance(
        &self,
        engines: &Engines,
        u: &Utterance,
    ) -> Result<TurnOutput, ProtoError> {
        self.utterance_from(engines, u, true)
    }

    fn utterance_from(
        &self,
        engines: &Engines,
        u: &Utterance,
        rest: bool,
    ) -> Result<TurnOutput, ProtoError> {
        let role = role(&u.role)?;
        if let Some(c) = u.confidence.filter(|c| !(0.0..=1.0).contains(c)) {
            return Err(ProtoError::new(
                code::BAD_MESSAGE,
                format!("confidence must be a number from 0 to 1, got {c}"),
            ));
        }
        let mut turn = Turn::new(role, u.text.clone());
        turn.start_ms = u.start_ms;
        turn.end_ms = u.end_ms;
        self.turn(
            engines,
            turn,
            u.is_final,
            Source::Utterance,
            u.reference.as_ref(),
            rest,
            u.confidence,
        )
    }

    /// An agent's unsent message: findings and the compliant rewrite, nothing folded.
    ///
    /// # Errors
    /// `no_session` when the conversation has ended.
    pub fn draft(&self, engines: &Engines, d: &Draft) -> Result<TurnOutput, ProtoError> {
        self.turn(
            engines,
            Turn::agent(d.text.clone()),
            false,
            Source::Draft,
            d.reference.as_ref(),
            false,
            None,
        )
    }

    // One entry for utterances (WS, REST, transcripts) and drafts: each argument is one way they differ.
    #[allow(clippy::too_many_arguments)]
    fn turn(
        &self,
        engines: &Engines,
        turn: Turn,
        is_final: bool,
        source: Source,
        reference: Option<&Value>,
        rest: bool,
        heard: Option<f32>,
    ) -> Result<TurnOutput, ProtoError> {
        let started = Instant::now();
        let mut inner = self.lock();
        if rest && inner.ws_owned {
            return Err(ProtoError::new(
                code::CONFLICT,
                "a WebSocket owns this conversation: only it may add utterances",
            ));
        }
        inner.last_active = started;
        let mut events = Vec::new();
        // Hot reload: sessions on the configured ruleset switch at their next utterance.
        if inner.follows_default {
            let current = engines.current();
            if current.generation != inner.generation {
                if let Some(session) = inner.session.as_mut() {
                    session.set_engine(Arc::clone(&current.engine));
                    let previous = std::mem::replace(&mut inner.version, current.version.clone());
                    inner.generation = current.generation;
                    events.push(Event::msg(
                        ServerMsg::Ruleset(RulesetMsg {
                            conversation_id: &self.id,
                            ruleset: &current.version,
                            previous: &previous,
                        }),
                        false,
                    ));
                }
            }
        }
        let Inner {
            session,
            version,
            coached,
            ..
        } = &mut *inner;
        let Some(session) = session.as_mut() else {
            return Err(ProtoError::new(
                code::NO_SESSION,
                "no conversation in progress: send session.start first",
            ));
        };
        let role = turn.role;
        let text = turn.text.clone();
        // The preview rules see the same exchange as the enforced ones (taken before the push moves it on).
        let (previous, own_previous) = if session.engine().wants_previous() {
            let e = session.last_exchange(role);
            (
                e.previous.map(str::to_string),
                e.own_previous.map(str::to_string),
            )
        } else {
            (None, None)
        };
        let update = if is_final {
            match heard {
                // A transcript: homophones of the rules' words match too (the default tolerance for speech).
                Some(confidence) => session.push_asr(&turn, confidence, Tolerance::default()),
                None => session.push(turn),
            }
        } else {
            session.revise(turn)
        };
        let partial = !is_final;
        let at = TurnRef {
            conversation_id: &self.id,
            turn: update.turn_index,
            is_final,
            source,
            reference,
        };
        let rewrite = session
            .engine()
            .compliant_rewrite(role, &text, &update.findings);
        let exchange = LastExchange {
            previous: previous.as_deref(),
            own_previous: own_previous.as_deref(),
        };
        let previews = session
            .engine()
            .previews_turn(role, &text, exchange, update.turn_index);
        // Output per input is capped: the findings that would take the messages of this turn over
        // max_output_bytes are not sent (an error says how many; the ack and the score count them all).
        // (The ack, coaching and the error fit in the reserve; the rewrite comes after the findings.)
        let budget = self.max_output.saturating_sub(4096);
        let mut bytes: usize = events.iter().map(|e| e.data.len()).sum();
        let mut sent = 0;
        for f in &update.findings {
            let mut these = vec![Event::msg(
                ServerMsg::Finding(FindingMsg {
                    at,
                    finding: FindingOut::from(f),
                }),
                partial,
            )];
            if let Some(s) = f.suggestions.first() {
                these.push(Event::msg(
                    ServerMsg::Hint(HintMsg {
                        at,
                        hint: "suggestion",
                        rule: Some(&f.rule_id),
                        check: None,
                        text: &s.replacement,
                    }),
                    partial,
                ));
            }
            let size: usize = these.iter().map(|e| e.data.len()).sum();
            if bytes + size > budget {
                break;
            }
            bytes += size;
            sent += 1;
            events.extend(these);
        }
        let omitted = update.findings.len() - sent;
        // A rewrite the engine would flag again is never offered ("use it" would send a violation).
        let mut rewrite_dropped = false;
        if let Ok(r) = &rewrite {
            if role == Role::Agent && *r != text {
                let hint = Event::msg(
                    ServerMsg::Hint(HintMsg {
                        at,
                        hint: "rewrite",
                        rule: None,
                        check: None,
                        text: r,
                    }),
                    partial,
                );
                if bytes + hint.data.len() > budget {
                    rewrite_dropped = true;
                } else {
                    events.push(hint);
                }
            }
        } else if let Err(w) = &rewrite {
            // Say why there is no rewrite, so an assist screen never offers the flagged text back.
            if role == Role::Agent {
                events.push(Event::msg(
                    ServerMsg::Hint(HintMsg {
                        at,
                        hint: "rewrite_withheld",
                        rule: None,
                        check: None,
                        text: &w.reason,
                    }),
                    partial,
                ));
            }
        }
        if omitted > 0 || rewrite_dropped {
            let e = ProtoError::new(
                code::OUTPUT_TOO_LARGE,
                format!(
                    "{omitted} of {} findings{} not sent: this input's messages would exceed max_output_bytes ({} bytes); the ack and the score count every finding (send shorter utterances)",
                    update.findings.len(),
                    if rewrite_dropped {
                        " and the rewrite were"
                    } else {
                        " were"
                    },
                    self.max_output
                ),
            );
            m::error(e.code);
            events.push(Event::new("error", error_json(&e, reference), partial));
        }
        let mut tips = Vec::new();
        if is_final {
            // Only the live checks not yet coached are judged (no report is built for a turn).
            let due = session.tips_for(|c| LIVE_CHECKS.contains(&c) && !coached.contains(&c));
            for (check, tip) in &due {
                coached.push(*check);
                tips.push(json!({"check": check.name(), "text": tip}));
                events.push(Event::msg(
                    ServerMsg::Hint(HintMsg {
                        at,
                        hint: "coaching",
                        rule: None,
                        check: Some(check.name()),
                        text: tip,
                    }),
                    false,
                ));
            }
        }
        events.push(Event::msg(
            ServerMsg::Ack(AckMsg {
                at,
                findings: update.findings.len(),
                ruleset: version,
            }),
            partial,
        ));
        let mut body = json!({
            "conversation_id": self.id,
            "turn": update.turn_index,
            "final": is_final,
            "ruleset": version,
            "findings": update.findings[..sent].iter().map(FindingOut::from).collect::<Vec<_>>(),
            "rewrite": rewrite.as_ref().ok().filter(|_| !rewrite_dropped),
            "coaching": tips,
        });
        if let Err(w) = &rewrite {
            body["rewrite_withheld"] = json!(w.reason);
        }
        if omitted > 0 {
            body["findings_omitted"] = json!(omitted);
        }
        if rewrite_dropped {
            body["rewrite_withheld"] = json!("output_too_large");
        }
        if !previews.is_empty() {
            body["previews"] = json!(previews.iter().map(FindingOut::from).collect::<Vec<_>>());
        }
        drop(inner);
        m::turn(is_final, source, &update.findings, started.elapsed());
        self.publish(&events);
        Ok(TurnOutput { events, body })
    }

    /// The scorecard as it stands, or the final one when `last` (which ends the session).
    ///
    /// # Errors
    /// `no_session` when no conversation is in progress.
    pub fn score(&self, last: bool, reference: Option<&Value>) -> Result<Event, ProtoError> {
        let mut inner = self.lock();
        let report = if last {
            inner.session.take().map(Session::finish)
        } else {
            inner.session.as_ref().map(Session::report)
        };
        drop(inner);
        let Some(report) = report else {
            return Err(ProtoError::new(
                code::NO_SESSION,
                "no conversation in progress: send session.start first",
            ));
        };
        let mut event = Event::msg(
            ServerMsg::Score(ScoreMsg {
                is_final: last,
                reference,
                score: ScoreOut::new(&self.id, &report),
            }),
            false,
        );
        event.last = last;
        self.publish(std::slice::from_ref(&event));
        Ok(event)
    }
}
