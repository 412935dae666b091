//! The telephony adapters' shared state, held by `App`: live calls by conversation id (so a reconnect, or the
//! other leg of an AudioSocket call, joins the same call), the final scorecards of finished calls (readable
//! for `retain_s`), and AudioSocket UUIDs registered to a conversation and role. Data only: it imports
//! neither `App` nor the adapters, which start calls (`integrations::join`) and record them here.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use huashu_audio::live::Encoding;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::config::integrations::IntegrationsConfig;
use crate::conv::Event;
use crate::protocol::{ProtoError, code};

/// What a connection asks of its call.
#[derive(Debug)]
pub enum Cmd {
    Attach {
        conn: u64,
        back: mpsc::Sender<Event>,
    },
    /// Audio of one party, or interleaved channels of all (`None`).
    Audio {
        party: Option<usize>,
        bytes: Vec<u8>,
    },
    /// That party's audio has ended (its leg hung up).
    PartyEnd(usize),
    /// The connection is gone: `clean` when the platform said the call (or this leg) is over.
    Detach {
        conn: u64,
        clean: bool,
    },
    Stats(oneshot::Sender<Value>),
}

/// What a call is: the adapter, the conversation id, the parties in channel order and their encoding.
#[derive(Debug, Clone, PartialEq)]
pub struct CallSpec {
    pub adapter: &'static str,
    pub id: String,
    pub roles: Vec<Arc<str>>,
    pub encoding: Encoding,
    /// One connection per party (AudioSocket's legs): a clean hangup of the last connection ends the call
    /// only once every party has been heard from; until then a leg still to come has `reconnect_ms` to join,
    /// so a customer leg answered after a short agent leg hung up is not a call of its own.
    pub legs: bool,
}

/// A handle on a live call.
#[derive(Debug, Clone)]
pub struct CallHandle {
    pub(crate) tx: mpsc::Sender<Cmd>,
    pub spec: CallSpec,
}

impl CallHandle {
    async fn stats(&self) -> Option<Value> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Cmd::Stats(tx)).await.ok()?;
        rx.await.ok()
    }
}

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
pub struct CallRegistry {
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

impl CallRegistry {
    pub fn new(config: IntegrationsConfig, max: usize) -> CallRegistry {
        CallRegistry {
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

    /// A number for a new connection, unique in this daemon.
    pub(crate) fn next_conn(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// The live call `id`, if any.
    pub(crate) fn live(&self, id: &str) -> Option<CallHandle> {
        lock(&self.calls).get(id).cloned()
    }

    /// Records a call just started, so later connections with its id join it.
    pub(crate) fn started(&self, handle: CallHandle) {
        lock(&self.calls).insert(handle.spec.id.clone(), handle);
    }

    /// The call `id` is ending: a new connection with this id starts a new call.
    pub(crate) fn forget(&self, id: &str, me: &mpsc::Sender<Cmd>) {
        let mut calls = lock(&self.calls);
        if calls.get(id).is_some_and(|h| h.tx.same_channel(me)) {
            calls.remove(id);
        }
    }

    /// A call ended: its final score (None when the conversation had already ended) and parties are kept
    /// for `retain_s`.
    pub(crate) fn finished(&self, key: &str, score: Option<Arc<str>>, mut stats: Value) {
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
