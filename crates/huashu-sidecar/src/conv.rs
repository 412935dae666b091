//! Conversations by id, shared by the WebSocket, REST and SSE paths: the same `Session`, the same findings.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use huashu::wire::{FindingOut, ScoreOut};
use huashu::{Role, Session, Turn};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::engines::{Engines, Loaded};
use crate::metrics as m;
use crate::protocol::{
    AckMsg, Draft, FindingMsg, HintMsg, ProtoError, RulesetMsg, ScoreMsg, ServerMsg, Source,
    StartedMsg, TurnRef, Utterance, code, role,
};

/// Scorecard checks worth a live coaching hint the moment they fail (the others are judged at the end).
const LIVE_CHECKS: &[&str] = &[
    "greeting",
    "empathy",
    "prompt",
    "hold",
    "escalation_time",
    "first_response",
    "silence",
    "talk_over",
    "speech_rate",
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
    coached: Vec<String>,
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
    fn new(key: String, id: Value) -> Conversation {
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
        let role = role(&u.role)?;
        let mut turn = Turn::new(role, u.text.clone());
        turn.start_ms = u.start_ms;
        turn.end_ms = u.end_ms;
        self.turn(
            engines,
            turn,
            u.is_final,
            Source::Utterance,
            u.reference.as_ref(),
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
        )
    }

    fn turn(
        &self,
        engines: &Engines,
        turn: Turn,
        is_final: bool,
        source: Source,
        reference: Option<&Value>,
    ) -> Result<TurnOutput, ProtoError> {
        let started = Instant::now();
        let mut inner = self.lock();
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
        let update = if is_final {
            session.push(turn)
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
        let previews = session
            .engine()
            .previews_turn(role, &text, update.turn_index);
        for f in &update.findings {
            events.push(Event::msg(
                ServerMsg::Finding(FindingMsg {
                    at,
                    finding: FindingOut::from(f),
                }),
                partial,
            ));
            if let Some(s) = f.suggestions.first() {
                events.push(Event::msg(
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
        }
        // A rewrite the engine would flag again is never offered ("use it" would send a violation).
        if let Ok(r) = &rewrite {
            if role == Role::Agent && *r != text {
                events.push(Event::msg(
                    ServerMsg::Hint(HintMsg {
                        at,
                        hint: "rewrite",
                        rule: None,
                        check: None,
                        text: r,
                    }),
                    partial,
                ));
            }
        }
        let mut tips = Vec::new();
        if is_final {
            let report = session.report();
            for (check, tip) in report.tips() {
                if LIVE_CHECKS.contains(&check) && !coached.iter().any(|c| c == check) {
                    coached.push(check.to_string());
                    tips.push(json!({"check": check, "text": tip}));
                    events.push(Event::msg(
                        ServerMsg::Hint(HintMsg {
                            at,
                            hint: "coaching",
                            rule: None,
                            check: Some(check),
                            text: tip,
                        }),
                        false,
                    ));
                }
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
            "findings": update.findings.iter().map(FindingOut::from).collect::<Vec<_>>(),
            "rewrite": rewrite.as_ref().ok(),
            "coaching": tips,
        });
        if let Err(w) = &rewrite {
            body["rewrite_withheld"] = json!(w.reason);
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

/// All conversations by id.
#[derive(Debug)]
pub struct Registry {
    map: Mutex<HashMap<String, Arc<Conversation>>>,
    active: AtomicUsize,
    max_sessions: usize,
}

impl Registry {
    pub fn new(max_sessions: usize) -> Registry {
        Registry {
            map: Mutex::new(HashMap::new()),
            active: AtomicUsize::new(0),
            max_sessions,
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Conversation>>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Conversations in progress.
    pub fn active(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }

    pub fn at_capacity(&self) -> bool {
        self.active() >= self.max_sessions
    }

    pub fn get(&self, key: &str) -> Option<Arc<Conversation>> {
        self.map().get(key).cloned()
    }

    /// Starts (or, for a REST conversation, joins) the conversation `id`. Returns it and the
    /// `session.started` event.
    ///
    /// # Errors
    /// `conflict` when another WebSocket holds it, `capacity`, `unknown_ruleset`.
    pub fn start(
        &self,
        engines: &Engines,
        id: &Value,
        ruleset: Option<&str>,
        disable: &[String],
        ws: bool,
    ) -> Result<(Arc<Conversation>, Event), ProtoError> {
        let key = key_of(id)?;
        let (mut follows, mut loaded) = engines
            .choose(ruleset)
            .map_err(|e| ProtoError::new(code::UNKNOWN_RULESET, e))?;
        if !disable.is_empty() {
            // A conversation with its own rule switches keeps the ruleset it started on: a reload would
            // have to recompile it per conversation.
            let engine = loaded
                .engine
                .without_rules(disable)
                .map_err(|e| ProtoError::new(code::BAD_MESSAGE, format!("disable: {e}")))?;
            loaded = Arc::new(Loaded {
                engine: Arc::new(engine),
                version: loaded.version.clone(),
                generation: loaded.generation,
            });
            follows = false;
        }
        let conv = {
            let mut map = self.map();
            let conv = match map.get(&key) {
                Some(c) => Arc::clone(c),
                None => {
                    if map.len() >= self.max_sessions.saturating_mul(2) {
                        return Err(capacity());
                    }
                    let c = Arc::new(Conversation::new(key.clone(), id.clone()));
                    map.insert(key, Arc::clone(&c));
                    c
                }
            };
            let mut inner = conv.lock();
            if inner.session.is_some() {
                if ws && inner.ws_owned {
                    return Err(ProtoError::new(
                        code::CONFLICT,
                        "another connection is streaming this conversation",
                    ));
                }
                inner.ws_owned |= ws;
            } else {
                if self
                    .active
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                        (n < self.max_sessions).then_some(n + 1)
                    })
                    .is_err()
                {
                    drop(inner);
                    if conv.events.receiver_count() == 0 {
                        map.remove(&conv.key);
                    }
                    return Err(capacity());
                }
                install(&mut inner, &loaded, follows);
                inner.ws_owned = ws;
                m::session_started();
            }
            drop(inner);
            conv
        };
        let version = conv.ruleset_version();
        let event = Event::msg(
            ServerMsg::Started(StartedMsg {
                conversation_id: &conv.id,
                ruleset: &version,
            }),
            false,
        );
        conv.publish(std::slice::from_ref(&event));
        Ok((conv, event))
    }

    /// The conversation `id`, started on the configured ruleset if it is not in progress (REST).
    ///
    /// # Errors
    /// As [`Registry::start`].
    pub fn get_or_start(
        &self,
        engines: &Engines,
        id: &Value,
    ) -> Result<Arc<Conversation>, ProtoError> {
        let key = key_of(id)?;
        if let Some(c) = self.get(&key).filter(|c| c.is_active()) {
            return Ok(c);
        }
        self.start(engines, id, None, &[], false).map(|(c, _)| c)
    }

    /// A conversation to listen to, created empty if needed (a screen may connect before the call starts).
    ///
    /// # Errors
    /// `capacity` when too many conversations are known.
    pub fn listen(&self, id: &Value) -> Result<Arc<Conversation>, ProtoError> {
        let key = key_of(id)?;
        let mut map = self.map();
        if let Some(c) = map.get(&key) {
            return Ok(Arc::clone(c));
        }
        if map.len() >= self.max_sessions.saturating_mul(2) {
            return Err(capacity());
        }
        let c = Arc::new(Conversation::new(key.clone(), id.clone()));
        map.insert(key, Arc::clone(&c));
        Ok(c)
    }

    /// Ends a conversation: the final score (sent to its listeners too), and it is forgotten.
    ///
    /// # Errors
    /// `no_session` when it was not in progress.
    pub fn end(
        &self,
        conv: &Arc<Conversation>,
        reference: Option<&Value>,
    ) -> Result<Event, ProtoError> {
        let result = conv.score(true, reference);
        if result.is_ok() {
            self.active.fetch_sub(1, Ordering::SeqCst);
            m::session_ended();
        }
        let mut map = self.map();
        if map
            .get(&conv.key)
            .is_some_and(|c| Arc::ptr_eq(c, conv) && !c.is_active())
        {
            map.remove(&conv.key);
        }
        result
    }

    /// Conversations not held by a WebSocket (REST ones), e.g. to end them at shutdown.
    pub fn rest_conversations(&self) -> Vec<Arc<Conversation>> {
        self.map()
            .values()
            .filter(|c| {
                let i = c.lock();
                i.session.is_some() && !i.ws_owned
            })
            .cloned()
            .collect()
    }

    /// Ends REST conversations idle for `idle`, forgets empty entries nobody listens to.
    pub fn reap(&self, idle: Duration) -> usize {
        let now = Instant::now();
        let stale: Vec<Arc<Conversation>> = self
            .map()
            .values()
            .filter(|c| {
                let i = c.lock();
                !i.ws_owned && now.duration_since(i.last_active) >= idle
            })
            .cloned()
            .collect();
        let mut ended = 0;
        for c in stale {
            if c.is_active() {
                if self.end(&c, None).is_ok() {
                    ended += 1;
                }
            } else if c.events.receiver_count() == 0 {
                let mut map = self.map();
                if map.get(&c.key).is_some_and(|x| Arc::ptr_eq(x, &c)) {
                    map.remove(&c.key);
                }
            }
        }
        ended
    }

    /// Marks a conversation as no longer held by a WebSocket.
    pub fn release(&self, conv: &Conversation) {
        conv.lock().ws_owned = false;
    }
}

fn install(inner: &mut Inner, loaded: &Arc<Loaded>, follows: bool) {
    inner.session = Some(Session::new(Arc::clone(&loaded.engine)));
    inner.follows_default = follows;
    inner.generation = loaded.generation;
    inner.version = loaded.version.clone();
    inner.coached.clear();
    inner.last_active = Instant::now();
}

fn capacity() -> ProtoError {
    ProtoError::new(
        code::CAPACITY,
        "the server is at capacity (max_sessions); try again later",
    )
}
