//! The registry of conversations: start (with capacity), find, listen, end, release and reap idle ones.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use huashu::Session;
use serde_json::Value;
use tokio::sync::broadcast;

use super::{Conversation, Event, Inner, key_of};
use crate::engines::{Engines, Loaded};
use crate::metrics as m;
use crate::protocol::{ProtoError, ServerMsg, StartedMsg, code};

/// All conversations by id.
#[derive(Debug)]
pub struct Registry {
    map: Mutex<HashMap<String, Arc<Conversation>>>,
    active: AtomicUsize,
    max_sessions: usize,
    /// Open listeners (SSE streams), bounded apart from sessions: listening to a conversation that has not
    /// started must never use up conversation slots.
    listeners: AtomicUsize,
    max_listeners: usize,
    /// Bytes of messages one utterance or draft may produce (`max_output_bytes`).
    max_output: usize,
}

impl Registry {
    pub fn new(max_sessions: usize, max_listeners: usize, max_output: usize) -> Registry {
        Registry {
            map: Mutex::new(HashMap::new()),
            active: AtomicUsize::new(0),
            max_sessions,
            listeners: AtomicUsize::new(0),
            max_listeners,
            max_output,
        }
    }

    /// Listeners (SSE streams) open.
    pub fn listeners(&self) -> usize {
        self.listeners.load(Ordering::SeqCst)
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
                    // Bounded by the session count below: an entry without a session is removed unless
                    // someone listens to it (and listeners are bounded apart).
                    let c = Arc::new(Conversation::new(key.clone(), id.clone(), self.max_output));
                    map.insert(key, Arc::clone(&c));
                    c
                }
            };
            let mut inner = conv.lock();
            if inner.session.is_some() {
                // One owner: a WebSocket's conversation is its own, and a WebSocket cannot take over one
                // that REST clients are feeding. REST clients share a REST conversation.
                if ws || inner.ws_owned {
                    return Err(conflict());
                }
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
            if c.lock().ws_owned {
                return Err(conflict());
            }
            return Ok(c);
        }
        self.start(engines, id, None, &[], false).map(|(c, _)| c)
    }

    /// Listens to a conversation, created empty if needed (a screen may connect before the call starts).
    /// Counted until [`Registry::unlisten`], which the listener calls when it is gone.
    ///
    /// # Errors
    /// `capacity` when `max_listeners` listeners are open.
    pub fn listen(
        &self,
        id: &Value,
    ) -> Result<(Arc<Conversation>, broadcast::Receiver<Event>), ProtoError> {
        let key = key_of(id)?;
        if self
            .listeners
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.max_listeners).then_some(n + 1)
            })
            .is_err()
        {
            return Err(ProtoError::new(
                code::CAPACITY,
                format!(
                    "too many listeners ({} event streams, max_listeners); try again later",
                    self.max_listeners
                ),
            ));
        }
        let mut map = self.map();
        let c = map.entry(key).or_insert_with_key(|k| {
            Arc::new(Conversation::new(k.clone(), id.clone(), self.max_output))
        });
        // Subscribed under the map lock, so `unlisten` of another listener cannot forget the entry between.
        let rx = c.subscribe();
        Ok((Arc::clone(c), rx))
    }

    /// A listener is gone (its receiver already dropped): its slot is free at once, and a conversation that
    /// never started and has no other listener is forgotten.
    pub fn unlisten(&self, conv: &Arc<Conversation>) {
        self.listeners.fetch_sub(1, Ordering::SeqCst);
        let mut map = self.map();
        if map.get(&conv.key).is_some_and(|c| {
            Arc::ptr_eq(c, conv) && c.events.receiver_count() == 0 && !c.is_active()
        }) {
            map.remove(&conv.key);
        }
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

    /// Ends a conversation for a REST client (`DELETE`): refused with `conflict` when a WebSocket owns it
    /// (the owner ends it with `session.end` and gets the final score).
    ///
    /// # Errors
    /// `conflict`, or as [`Registry::end`].
    pub fn end_rest(&self, conv: &Arc<Conversation>) -> Result<Event, ProtoError> {
        if conv.lock().ws_owned {
            return Err(conflict());
        }
        self.end(conv, None)
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

fn conflict() -> ProtoError {
    ProtoError::new(
        code::CONFLICT,
        "another client owns this conversation (a WebSocket streams it, or REST clients feed it)",
    )
}

fn capacity() -> ProtoError {
    ProtoError::new(
        code::CAPACITY,
        "the server is at capacity (max_sessions); try again later",
    )
}
