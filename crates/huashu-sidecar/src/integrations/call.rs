//! One live call fed by an adapter: a task that owns the conversation and its parties' streams
//! ([`Parties`]), takes commands from the adapters' connections (audio, a party's end, attach/detach)
//! and sends what the conversation emits to the SSE listeners (through the conversation) and back to the
//! attached connections. A call outlives a connection that drops without ending it by `reconnect_ms`, so
//! the platform can reconnect with the same call id; when it ends, its final scorecard goes out and is
//! kept for `retain_s` (`crate::call_registry`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use huashu_audio::live::LiveTranscript;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::app::App;
use crate::audio::{AsyncReport, Report};
use crate::call::Parties;
use crate::call_registry::{CallHandle, CallSpec, Cmd};
use crate::conv::{Conversation, Event};
use crate::protocol::{ProtoError, ServerMsg, TranscriptMsg, Utterance, code};

/// Messages queued back to one connection; beyond, the platform misses some (counted), the call goes on.
const BACK_QUEUE: usize = 256;
/// A party's audio this far behind the call's wall clock is late (not jitter): silence fills the gap.
const LATE_MS: u64 = 1000;
/// How long an ending call waits for its recognitions to finish.
const DRAIN: Duration = Duration::from_secs(30);

/// A connection attached to a call.
#[derive(Debug)]
pub struct Attached {
    pub call: CallHandle,
    pub conn: u64,
    /// What the conversation emits, for the platform (ends when the call has ended).
    pub back: mpsc::Receiver<Event>,
    /// Whether this connection joined a call already in progress (a reconnect, or another leg).
    pub rejoined: bool,
}

impl Attached {
    /// Hands one frame to the call (waits when the call is behind: TCP pushes back on the platform).
    /// False when the call has ended.
    pub async fn audio(&self, party: Option<usize>, bytes: Vec<u8>) -> bool {
        self.call.tx.send(Cmd::Audio { party, bytes }).await.is_ok()
    }

    pub async fn party_end(&self, party: usize) {
        let _ = self.call.tx.send(Cmd::PartyEnd(party)).await;
    }

    /// The connection is done (`clean`: the platform ended the call or this leg).
    pub async fn detach(self, clean: bool) {
        let _ = self
            .call
            .tx
            .send(Cmd::Detach {
                conn: self.conn,
                clean,
            })
            .await;
    }

    /// The party of `role` in this call.
    pub fn party_of(&self, role: &str) -> Option<usize> {
        self.call.spec.roles.iter().position(|r| &**r == role)
    }
}

/// Delivers a party's recognition results to its call. Unbounded: results are bounded by the jobs (a
/// party's job queue pushes back on the call), and the call may be waiting on that queue while results
/// arrive — a bounded channel here could deadlock the two.
struct ToCall {
    tx: mpsc::UnboundedSender<(usize, Report)>,
    party: usize,
}

impl AsyncReport for ToCall {
    async fn report(&mut self, r: Report) -> bool {
        self.tx.send((self.party, r)).is_ok()
    }
}

/// The command queue of a call ([`CallHandle::tx`] and what [`spawn`] reads).
pub(super) fn command_channel() -> (mpsc::Sender<Cmd>, mpsc::Receiver<Cmd>) {
    mpsc::channel(64)
}

/// Starts the call of `handle` (its commands arrive on `rx`) on conversation `conv` (already started in
/// the registry) with its first connection.
///
/// # Errors
/// `capacity` when there are not enough audio stream slots (the caller ends the conversation).
pub(super) fn spawn(
    app: &Arc<App>,
    handle: &CallHandle,
    rx: mpsc::Receiver<Cmd>,
    conv: Arc<Conversation>,
    first: (u64, mpsc::Sender<Event>),
) -> Result<(), ProtoError> {
    let spec = handle.spec.clone();
    let (heard_tx, heard_rx) = mpsc::unbounded_channel();
    let language = app
        .config
        .integrations
        .language
        .clone()
        .or_else(|| app.speech.get().map(|_| app.config.audio.language.clone()));
    let parties = Parties::open(
        app.speech.get(),
        &spec.roles,
        spec.encoding,
        language.as_deref(),
        |party| ToCall {
            tx: heard_tx.clone(),
            party,
        },
    )?;
    drop(heard_tx);
    super::calls(spec.adapter, 1.0);
    let call = LiveCall {
        app: Arc::clone(app),
        spec,
        conv,
        parties,
        backs: vec![first],
        grace: None,
        started: Instant::now(),
        parties_heard: vec![false; handle.spec.roles.len()],
    };
    tokio::spawn(call.run(rx, heard_rx, handle.tx.clone()));
    Ok(())
}

pub(super) fn back_channel() -> (mpsc::Sender<Event>, mpsc::Receiver<Event>) {
    mpsc::channel(BACK_QUEUE)
}

struct LiveCall {
    app: Arc<App>,
    spec: CallSpec,
    conv: Arc<Conversation>,
    parties: Parties,
    backs: Vec<(u64, mpsc::Sender<Event>)>,
    /// No connection is attached: the call ends at this instant unless one reconnects.
    grace: Option<Instant>,
    started: Instant,
    /// Per party: audio or its end has come (see [`CallSpec::legs`]).
    parties_heard: Vec<bool>,
}

impl LiveCall {
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<Cmd>,
        mut heard: mpsc::UnboundedReceiver<(usize, Report)>,
        me: mpsc::Sender<Cmd>,
    ) {
        let mut shutdown = self.app.shutdown_rx();
        let reconnect = Duration::from_millis(self.app.config.integrations.reconnect_ms);
        loop {
            let wake = [self.parties.deadline(), self.grace]
                .into_iter()
                .flatten()
                .min();
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    None => break,
                    Some(Cmd::Attach { conn, back }) => {
                        self.backs.push((conn, back));
                        self.grace = None;
                    }
                    Some(Cmd::Audio { party, bytes }) => {
                        super::frames(self.spec.adapter, 1);
                        match party {
                            Some(p) => self.heard_from(p),
                            None => self.parties_heard.fill(true),
                        }
                        let r = match party {
                            Some(p) => {
                                // One connection per party: a leg that starts late (answered after the
                                // other, reconnected) is put on the call's clock first.
                                let call_ms = self.started.elapsed().as_millis() as u64;
                                if call_ms > self.parties.now_ms(p) + LATE_MS {
                                    self.parties.pad_to(p, call_ms).await;
                                }
                                self.parties.frame(p, &bytes).await
                            }
                            None => self.parties.interleaved(&bytes).await,
                        };
                        if let Err(e) = r {
                            crate::metrics::error(code::BAD_AUDIO);
                            let e = ProtoError::new(code::BAD_AUDIO, e);
                            self.send_back(&Event::new("error", crate::protocol::error_json(&e, None), true));
                        }
                        let late = self.parties.expire();
                        self.deliver(late).await;
                    }
                    Some(Cmd::PartyEnd(p)) => {
                        self.heard_from(p);
                        self.parties.end_party(p).await;
                    }
                    Some(Cmd::Detach { conn, clean }) => {
                        self.backs.retain(|b| b.0 != conn);
                        if self.backs.is_empty() {
                            // A leg still to come (AudioSocket: the customer answered after a short agent
                            // leg) gets the same grace as a dropped connection.
                            let all_heard = !self.spec.legs || self.parties_heard.iter().all(|h| *h);
                            if clean && all_heard {
                                break;
                            }
                            self.grace = Some(Instant::now() + reconnect);
                        }
                    }
                    Some(Cmd::Stats(reply)) => {
                        let _ = reply.send(self.stats());
                    }
                },
                Some((p, r)) = heard.recv() => self.heard(p, r).await,
                () = sleep_until(wake), if wake.is_some() => {
                    let late = self.parties.expire();
                    self.deliver(late).await;
                    if self.grace.is_some_and(|g| Instant::now() >= g) {
                        break;
                    }
                }
                () = async { let _ = shutdown.wait_for(|v| *v).await; } => break,
            }
        }
        // No new connection joins a call that is ending: the next one with this id starts a new call.
        self.app.integrations.forget(&self.spec.id, &me);
        rx.close();
        self.finish(&mut heard).await;
    }

    fn heard_from(&mut self, party: usize) {
        if let Some(h) = self.parties_heard.get_mut(party) {
            *h = true;
        }
    }

    async fn heard(&mut self, party: usize, r: Report) {
        let outcome = self.parties.report(party, r);
        if let Some(msg) = outcome.failed {
            let e = ProtoError::new(
                code::AUDIO_FAILED,
                format!("speech recognition failed: {msg}"),
            );
            crate::metrics::error(e.code);
            self.send_back(&Event::new(
                "error",
                crate::protocol::error_json(&e, None),
                true,
            ));
        }
        self.deliver(outcome.released).await;
    }

    /// The end: every party's last utterance is recognised (within [`DRAIN`]), the held finals go in,
    /// the conversation ends with its final score (to SSE listeners, the connections, and kept).
    async fn finish(mut self, heard: &mut mpsc::UnboundedReceiver<(usize, Report)>) {
        self.parties.end_all().await;
        let deadline = tokio::time::Instant::now() + DRAIN;
        let app = Arc::clone(&self.app);
        // At shutdown, the one deadline (`shutdown_grace_ms`) comes first.
        let shutdown = async move {
            let at = app.shutdown_deadline().await;
            tokio::time::sleep_until(at).await;
        };
        tokio::pin!(shutdown);
        while !self.parties.all_done() {
            tokio::select! {
                r = heard.recv() => match r {
                    Some((p, r)) => self.heard(p, r).await,
                    None => break,
                },
                () = tokio::time::sleep_until(deadline) => break,
                () = &mut shutdown => break,
            }
        }
        let rest = self.parties.drain();
        self.deliver(rest).await;
        let stats = self.stats();
        let result = self.app.registry.end(&self.conv, None);
        self.app.registry.release(&self.conv);
        let score = match result {
            Ok(e) => {
                self.send_back(&e);
                Some(e.data)
            }
            Err(_) => None,
        };
        self.app.integrations.finished(&self.conv.key, score, stats);
        super::calls(self.spec.adapter, -1.0);
    }

    /// Transcripts let through, in order: a `transcript` message, then checked as an utterance (its
    /// findings, hints and ack go to SSE listeners through the conversation, and back to the platform).
    async fn deliver(&mut self, released: Vec<(usize, LiveTranscript)>) {
        for (party, t) in released {
            let Some(role) = self.parties.role(party).cloned() else {
                continue;
            };
            let event = Event::msg(
                ServerMsg::Transcript(TranscriptMsg {
                    conversation_id: &self.conv.id,
                    role: &role,
                    text: &t.text,
                    is_final: t.is_final,
                    start_ms: t.start_ms,
                    end_ms: t.end_ms,
                    utterance: t.utterance,
                    confidence: t.confidence,
                }),
                !t.is_final,
            );
            self.conv.publish(std::slice::from_ref(&event));
            self.send_back(&event);
            // A final with no text clears the utterance's partial: no turn, nothing to check.
            if t.is_final && t.text.is_empty() {
                continue;
            }
            let u = Utterance {
                role: role.to_string(),
                text: t.text,
                is_final: t.is_final,
                start_ms: Some(t.start_ms),
                end_ms: Some(t.end_ms),
                reference: None,
                confidence: Some(t.confidence),
            };
            let conv = Arc::clone(&self.conv);
            let app = Arc::clone(&self.app);
            match self
                .app
                .check(move || conv.utterance(&app.engines, &u))
                .await
            {
                Ok(out) => {
                    for e in &out.events {
                        self.send_back(e);
                    }
                }
                Err(e) => {
                    self.send_back(&Event::new(
                        "error",
                        crate::protocol::error_json(&e, None),
                        true,
                    ));
                }
            }
        }
    }

    fn send_back(&mut self, e: &Event) {
        for (_, back) in &self.backs {
            if back.try_send(e.clone()).is_ok() {
                super::sent_back(self.spec.adapter);
            } else {
                crate::metrics::superseded();
            }
        }
    }

    fn stats(&self) -> Value {
        json!({
            "conversation_id": self.conv.id,
            "adapter": self.spec.adapter,
            "live": true,
            "connections": self.backs.len(),
            "seconds": self.started.elapsed().as_secs_f64(),
            "parties": self.parties.stats().iter().map(|(role, s)| {
                let mut v = serde_json::to_value(s).unwrap_or_else(|_| json!({}));
                v["role"] = json!(&**role);
                v
            }).collect::<Vec<_>>(),
        })
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
        None => std::future::pending().await,
    }
}
