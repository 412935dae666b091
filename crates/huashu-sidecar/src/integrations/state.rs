//! The adapters' shared state: live calls by conversation id (so a reconnect, or the other leg of an
//! AudioSocket call, joins the same call), the final scorecards of finished calls (readable for
//! `retain_s`), and AudioSocket UUIDs registered to a conversation and role.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::mpsc;

use super::call::{self, Attached, CallHandle, CallSpec, Cmd};
use super::config::IntegrationsConfig;
use crate::app::App;
use crate::protocol::{ProtoError, code};

#[derive(Debug)]
struct Finished {
    until: Instant,
    score: Option<Arc<str>>,
    stats: Value,
}

/// An AudioSocket UUID registered over REST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub conversation_id: String,
    pub role: Arc<str>,
}

#[derive(Debug)]
pub struct Integrations {
    pub config: IntegrationsConfig,
    calls: Mutex<HashMap<String, CallHandle>>,
    finished: Mutex<HashMap<String, Finished>>,
    audiosocket: Mutex<HashMap<String, (Instant, Registration)>>,
    next_conn: AtomicU64,
    /// Where the AudioSocket listener is bound (when configured).
    pub audiosocket_addr: std::sync::OnceLock<std::net::SocketAddr>,
    /// Bound on kept scorecards and registrations (`max_sessions`).
    max: usize,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Integrations {
    pub fn new(config: IntegrationsConfig, max: usize) -> Integrations {
        Integrations {
            config,
            calls: Mutex::new(HashMap::new()),
            finished: Mutex::new(HashMap::new()),
            audiosocket: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(1),
            audiosocket_addr: std::sync::OnceLock::new(),
            max: max.max(1),
        }
    }

    fn retain(&self) -> Duration {
        Duration::from_secs(self.config.retain_s)
    }

    /// Attaches a connection to the call `spec.id`: the live one (a reconnect, another leg), else a new
    /// call on a new conversation.
    ///
    /// # Errors
    /// `conflict` (the id is a call of another adapter or layout, or a WebSocket client owns the
    /// conversation), `capacity`, `shutting_down`.
    pub async fn join(&self, app: &Arc<App>, spec: CallSpec) -> Result<Attached, ProtoError> {
        let conn = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let (back_tx, back) = call::back_channel();
        let live = lock(&self.calls).get(&spec.id).cloned();
        if let Some(h) = live {
            if h.spec != spec {
                return Err(ProtoError::new(
                    code::CONFLICT,
                    format!(
                        "call {:?} is live through {} with other parties or audio format",
                        spec.id, h.spec.adapter
                    ),
                ));
            }
            if h.tx
                .send(Cmd::Attach {
                    conn,
                    back: back_tx.clone(),
                })
                .await
                .is_ok()
            {
                return Ok(Attached {
                    call: h,
                    conn,
                    back,
                    rejoined: true,
                });
            }
        }
        if app.shutting_down() {
            return Err(ProtoError::new(
                code::SHUTTING_DOWN,
                "the server is shutting down",
            ));
        }
        let id = Value::String(spec.id.clone());
        let (conv, _) = app.registry.start(&app.engines, &id, None, &[], true)?;
        let handle = match call::spawn(app, spec.clone(), Arc::clone(&conv), (conn, back_tx)) {
            Ok(h) => h,
            Err(e) => {
                let _ = app.registry.end(&conv, None);
                app.registry.release(&conv);
                return Err(e);
            }
        };
        lock(&self.calls).insert(spec.id, handle.clone());
        Ok(Attached {
            call: handle,
            conn,
            back,
            rejoined: false,
        })
    }

    /// The call `id` is ending: a new connection with this id starts a new call.
    pub(super) fn forget(&self, id: &str, me: &mpsc::Sender<Cmd>) {
        let mut calls = lock(&self.calls);
        if calls.get(id).is_some_and(|h| h.tx.same_channel(me)) {
            calls.remove(id);
        }
    }

    /// A call ended: its final score (None when the conversation had already ended) and parties are kept
    /// for `retain_s`.
    pub(super) fn finished(&self, key: &str, score: Option<Arc<str>>, mut stats: Value) {
        stats["live"] = Value::Bool(false);
        let now = Instant::now();
        let mut f = lock(&self.finished);
        f.retain(|_, v| v.until > now);
        if f.len() >= self.max {
            // The oldest goes first.
            if let Some(k) = f
                .iter()
                .min_by_key(|(_, v)| v.until)
                .map(|(k, _)| k.clone())
            {
                f.remove(&k);
            }
        }
        f.insert(
            key.to_string(),
            Finished {
                until: now + self.retain(),
                score,
                stats,
            },
        );
    }

    /// The final score of a call that ended within `retain_s`.
    pub fn final_score(&self, key: &str) -> Option<Arc<str>> {
        let f = lock(&self.finished);
        f.get(key)
            .filter(|v| v.until > Instant::now())
            .and_then(|v| v.score.clone())
    }

    /// A live call's parties, or a finished one's (within `retain_s`).
    pub async fn stats(&self, key: &str) -> Option<Value> {
        let live = lock(&self.calls).get(key).cloned();
        if let Some(h) = live {
            if let Some(v) = h.stats().await {
                return Some(v);
            }
        }
        let f = lock(&self.finished);
        f.get(key)
            .filter(|v| v.until > Instant::now())
            .map(|v| v.stats.clone())
    }

    /// Registers an AudioSocket UUID (lower-case, hyphenated) to a conversation and role, for
    /// `retain_s` at least (a re-registration replaces it).
    ///
    /// # Errors
    /// `capacity` when `max_sessions` registrations are kept.
    pub fn register(&self, uuid: String, r: Registration) -> Result<(), ProtoError> {
        let now = Instant::now();
        let keep = self.retain().max(Duration::from_secs(3600));
        let mut m = lock(&self.audiosocket);
        m.retain(|_, (at, _)| now.duration_since(*at) < keep);
        if m.len() >= self.max && !m.contains_key(&uuid) {
            return Err(ProtoError::new(
                code::CAPACITY,
                "too many AudioSocket registrations (max_sessions); try again later",
            ));
        }
        m.insert(uuid, (now, r));
        Ok(())
    }

    pub fn registration(&self, uuid: &str) -> Option<Registration> {
        lock(&self.audiosocket).get(uuid).map(|(_, r)| r.clone())
    }
}
