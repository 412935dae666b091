//! Chatwoot (`POST /v1/integrations/chatwoot`): its webhook in, private notes back. A delivery is checked
//! against the webhook's signature when a secret is configured; a customer's message is folded into the
//! conversation (id = Chatwoot's conversation id), an agent's is checked and folded in, bots, private notes
//! and the rest are ignored; a resolved conversation ends. Findings go to the conversation's SSE listeners
//! like any REST utterance, and a note with the findings, the rewrite and coaching is posted through
//! Chatwoot's API in the background — the webhook is answered at once, never after the note.
//!
//! Parts: `signature.rs` (HMAC), `event.rs` (what a delivery asks), `note.rs` (the note's text),
//! `client.rs` (posting with time limits and bounded retries).

mod client;
pub mod event;
pub mod note;
pub mod signature;

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use event::{Action, Message};

use crate::app::App;
use crate::config::ChatwootConfig;
use crate::config::chatwoot_api::ApiBase;
use crate::metrics as m;
use crate::protocol::{ProtoError, Utterance, code};

const PLATFORM: &str = "chatwoot";
/// Messages remembered to drop a second delivery of one (Chatwoot retries a delivery it thinks failed, and
/// an account webhook and an agent bot may both send the same message).
const SEEN: usize = 4096;

/// The integration's state for one daemon: the note poster, its counters, recently seen messages.
#[derive(Debug)]
pub struct Chatwoot {
    config: ChatwootConfig,
    api: Option<(ApiBase, Token)>,
    pending: Arc<Semaphore>,
    stats: Arc<Stats>,
    seen: Mutex<Seen>,
}

/// What the integration did, since start (`GET /v1/integrations/chatwoot/status`, and `/metrics`).
#[derive(Debug, Default)]
pub struct Stats {
    pub checked: AtomicU64,
    pub fed: AtomicU64,
    pub ignored: AtomicU64,
    pub ended: AtomicU64,
    pub duplicates: AtomicU64,
    pub refused: AtomicU64,
    pub notes_sent: AtomicU64,
    pub notes_failed: AtomicU64,
    pub notes_dropped: AtomicU64,
    pub note_retries: AtomicU64,
}

#[derive(Debug, Default)]
struct Seen {
    set: HashSet<(u64, u64)>,
    order: VecDeque<(u64, u64)>,
}

impl Seen {
    /// Records a message; false when it was already there.
    fn insert(&mut self, key: (u64, u64)) -> bool {
        if !self.set.insert(key) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > SEEN {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }

    fn remove(&mut self, key: (u64, u64)) {
        if self.set.remove(&key) {
            self.order.retain(|k| *k != key);
        }
    }
}

/// The API access token; its `Debug` does not show it.
#[derive(Clone)]
struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

fn bump(c: &AtomicU64, outcome: &'static str) {
    c.fetch_add(1, Ordering::Relaxed);
    m::integration_webhook(PLATFORM, outcome);
}

impl Chatwoot {
    /// The integration as configured (the config was checked by `Config::finish`).
    pub fn new(config: &ChatwootConfig) -> Chatwoot {
        let api = match (&config.base_url, &config.api_token) {
            (Some(url), Some(token)) => ApiBase::parse(url).ok().map(|b| (b, Token(token.clone()))),
            _ => None,
        };
        Chatwoot {
            api,
            pending: Arc::new(Semaphore::new(config.max_pending_notes)),
            stats: Arc::new(Stats::default()),
            seen: Mutex::new(Seen::default()),
            config: config.clone(),
        }
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Notes being posted (or waiting to retry) now.
    pub fn pending_notes(&self) -> usize {
        self.config
            .max_pending_notes
            .saturating_sub(self.pending.available_permits())
    }

    /// `GET /v1/integrations/chatwoot/status`: whether it is on, where notes go, and the counters.
    pub fn status(&self) -> Value {
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let s = &*self.stats;
        json!({
            "enabled": self.config.enabled,
            "signed": self.config.secret.is_some(),
            "notes": self.api.is_some(),
            "webhooks": {
                "checked": n(&s.checked), "fed": n(&s.fed), "ignored": n(&s.ignored), "ended": n(&s.ended),
                "duplicates": n(&s.duplicates), "refused": n(&s.refused),
            },
            "notes_posted": {
                "sent": n(&s.notes_sent), "failed": n(&s.notes_failed), "dropped": n(&s.notes_dropped),
                "retries": n(&s.note_retries), "pending": self.pending_notes(),
            },
        })
    }

    /// One webhook delivery. Answers once the message is checked (well under a millisecond of engine
    /// work); the note, if any, is posted afterwards.
    ///
    /// # Errors
    /// `not_found` when the integration is off, `unauthorized` for a bad signature, `bad_json`/`bad_message`
    /// for a body that is not a Chatwoot delivery, and the conversation's own errors (`conflict` when a
    /// WebSocket streams the same id, `capacity`).
    pub async fn webhook(
        &self,
        app: &Arc<App>,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Value, ProtoError> {
        if !self.config.enabled {
            return Err(ProtoError::new(
                code::NOT_FOUND,
                "the Chatwoot integration is off: set [integrations.chatwoot] enabled = true in huashu.toml",
            ));
        }
        if let Some(secret) = &self.config.secret {
            let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            if let Err(why) = signature::verify(
                secret,
                header(signature::SIGNATURE_HEADER),
                header(signature::TIMESTAMP_HEADER),
                body,
                now,
                self.config.max_skew_s,
            ) {
                bump(&self.stats.refused, "refused");
                m::rejected("unauthorized");
                return Err(ProtoError::new(code::UNAUTHORIZED, why.to_string()));
            }
        }
        let payload: event::Payload = serde_json::from_slice(body).map_err(|e| {
            bump(&self.stats.refused, "refused");
            let c = if e.is_data() {
                code::BAD_MESSAGE
            } else {
                code::BAD_JSON
            };
            ProtoError::new(c, format!("not a Chatwoot webhook delivery: {e}"))
        })?;
        match event::classify(&payload) {
            Action::Ignore(reason) => {
                bump(&self.stats.ignored, "ignored");
                Ok(json!({"status": "ignored", "reason": reason}))
            }
            Action::End { conversation } => Ok(self.end(app, conversation)),
            Action::Feed(msg) => self.turn(app, msg, false).await,
            Action::Check(msg) => self.turn(app, msg, true).await,
        }
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn end(&self, app: &Arc<App>, conversation: u64) -> Value {
        let key = conversation.to_string();
        let ended = app
            .registry
            .get(&key)
            .filter(|c| c.is_active())
            .is_some_and(|c| app.registry.end_rest(&c).is_ok());
        if ended {
            bump(&self.stats.ended, "ended");
            json!({"status": "ended", "conversation_id": key})
        } else {
            bump(&self.stats.ignored, "ignored");
            json!({"status": "ignored", "reason": "no such conversation in progress", "conversation_id": key})
        }
    }

    async fn turn(&self, app: &Arc<App>, msg: Message, check: bool) -> Result<Value, ProtoError> {
        let seen_key = msg.message.map(|id| (msg.account.unwrap_or(0), id));
        if let Some(key) = seen_key {
            if !self.seen().insert(key) {
                bump(&self.stats.duplicates, "duplicate");
                return Ok(json!({"status": "duplicate", "message_id": key.1}));
            }
        }
        let id = Value::String(msg.conversation.to_string());
        let utterance = Utterance {
            role: if check { "agent" } else { "customer" }.into(),
            text: msg.text.clone(),
            is_final: true,
            start_ms: None,
            end_ms: None,
            // Every message this produces on SSE names the Chatwoot message it came from.
            reference: msg.message.map(|m| json!({"chatwoot_message_id": m})),
            confidence: None,
        };
        let a = Arc::clone(app);
        let cid = id.clone();
        let out = app
            .check(move || {
                let conv = a.registry.get_or_start(&a.engines, &cid)?;
                conv.rest_utterance(&a.engines, &utterance)
            })
            .await
            .inspect_err(|_| {
                // Not taken in (a WebSocket owns the id, capacity): Chatwoot's retry must not be a duplicate.
                if let Some(key) = seen_key {
                    self.seen().remove(key);
                }
            })?;
        let findings = out.body["findings"].as_array().map_or(0, Vec::len);
        let mut reply = json!({
            "status": if check { "checked" } else { "fed" },
            "conversation_id": id,
            "turn": out.body["turn"],
            "findings": findings,
        });
        if !check {
            bump(&self.stats.fed, "fed");
            return Ok(reply);
        }
        bump(&self.stats.checked, "checked");
        reply["note"] = json!(match note::compose(&out.body) {
            None => "none",
            Some(text) => self.post(app, msg.account, msg.conversation, text),
        });
        Ok(reply)
    }

    /// Starts posting a note in the background: `queued`, `off` (no API configured, or no account in the
    /// delivery) or `dropped` (too many notes pending).
    fn post(
        &self,
        app: &Arc<App>,
        account: Option<u64>,
        conversation: u64,
        text: String,
    ) -> &'static str {
        let (Some((base, token)), Some(account)) = (&self.api, account) else {
            return "off";
        };
        let Ok(permit) = Arc::clone(&self.pending).try_acquire_owned() else {
            self.stats.notes_dropped.fetch_add(1, Ordering::Relaxed);
            m::integration_note(PLATFORM, "dropped");
            return "dropped";
        };
        let (base, token, stats) = (base.clone(), token.clone(), Arc::clone(&self.stats));
        let policy = client::Policy {
            connect_timeout: Duration::from_millis(self.config.connect_timeout_ms),
            request_timeout: Duration::from_millis(self.config.request_timeout_ms),
            retries: self.config.retries,
            backoff: Duration::from_millis(self.config.retry_backoff_ms),
        };
        // Counted by the app, so a graceful shutdown lets it finish (by the shutdown deadline).
        app.spawn_background(async move {
            let _permit = permit;
            let retries = Arc::clone(&stats);
            let result =
                client::post_note(&base, &token.0, account, conversation, &text, policy, || {
                    retries.note_retries.fetch_add(1, Ordering::Relaxed);
                    m::integration_note_retry(PLATFORM);
                })
                .await;
            match result {
                Ok(_) => {
                    stats.notes_sent.fetch_add(1, Ordering::Relaxed);
                    m::integration_note(PLATFORM, "sent");
                }
                Err((why, attempts)) => {
                    stats.notes_failed.fetch_add(1, Ordering::Relaxed);
                    m::integration_note(PLATFORM, "failed");
                    eprintln!(
                        "huashu serve: chatwoot: note for conversation {conversation} (account {account}) not \
                         posted after {attempts} attempt(s): {why}"
                    );
                }
            }
        });
        "queued"
    }
}
