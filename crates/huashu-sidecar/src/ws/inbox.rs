//! The connection's inbox: finals and control messages in a bounded queue (the reader waits for space, they
//! are never dropped), partials and drafts in one slot per role (and one for drafts), a newer one replacing an
//! unprocessed older one.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::Notify;

use crate::audio::Report;
use crate::metrics as m;
use crate::protocol::{In, ProtoError};

/// What the reader (and the audio task) hand to the worker.
pub(super) enum Item {
    Msg(In, Instant),
    /// A binary frame: audio of the open stream.
    Audio(axum::body::Bytes),
    /// A transcription task's result for audio stream `stream`.
    Heard {
        stream: u64,
        role: Arc<str>,
        report: Report,
    },
    Error(ProtoError),
    /// The connection ends: the error, then (when `score`) the final score of the session in progress, then
    /// a close frame with this code and reason.
    Fatal {
        error: ProtoError,
        close: u16,
        reason: &'static str,
        score: bool,
    },
    Disconnected,
    Shutdown,
}

#[derive(Default)]
pub(super) struct InboxState {
    seq: u64,
    queue: VecDeque<(u64, Item)>,
    /// Pending partial per slot: agent, customer, system utterance; draft.
    partials: [Option<(u64, Item)>; 4],
    closed: bool,
}

pub(super) struct Inbox {
    /// The worker has a session in progress (the reader closes connections idle without one).
    pub(super) in_session: std::sync::atomic::AtomicBool,
    /// Told when a session ends: the idle clock starts again.
    pub(super) session_ended: Notify,
    state: Mutex<InboxState>,
    items: Notify,
    space: Notify,
    cap: usize,
}

/// The worker is gone; nothing more will be read.
pub(super) struct Closed;

fn role_slot(role: &str) -> usize {
    match role {
        "agent" => 0,
        "customer" => 1,
        _ => 2,
    }
}

fn slot(item: &Item) -> Option<usize> {
    match item {
        Item::Heard {
            role,
            report: Report::Heard(t),
            ..
        } if !t.is_final => Some(role_slot(role)),
        Item::Msg(In::Utterance(u), _) if !u.is_final => Some(match u.role.as_str() {
            "agent" => 0,
            "customer" => 1,
            _ => 2,
        }),
        Item::Msg(In::Draft(_), _) => Some(3),
        _ => None,
    }
}

impl Inbox {
    pub(super) fn new(cap: usize) -> Inbox {
        Inbox {
            in_session: std::sync::atomic::AtomicBool::new(false),
            session_ended: Notify::new(),
            state: Mutex::new(InboxState::default()),
            items: Notify::new(),
            space: Notify::new(),
            cap,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, InboxState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues an item; waits for space for finals and control messages (never drops them).
    pub(super) async fn push(&self, item: Item) -> Result<(), Closed> {
        let terminal = matches!(
            item,
            Item::Disconnected | Item::Shutdown | Item::Fatal { .. }
        );
        let mut item = Some(item);
        loop {
            {
                let mut st = self.lock();
                if st.closed {
                    return Err(Closed);
                }
                let Some(it) = item.take() else {
                    return Ok(());
                };
                st.seq += 1;
                let seq = st.seq;
                if let Some(s) = slot(&it) {
                    if st.partials[s].replace((seq, it)).is_some() {
                        m::superseded();
                    }
                    self.items.notify_one();
                    return Ok(());
                }
                // Transcripts are bounded by the recogniser (one job at a time per stream) and must not wait
                // behind the audio frames that wait for them.
                let heard = matches!(it, Item::Heard { .. });
                if terminal || heard || st.queue.len() < self.cap {
                    // A final utterance supersedes the pending partial of its role (and an agent final the
                    // draft it became).
                    let final_role = match &it {
                        Item::Msg(In::Utterance(u), _) => Some(role_slot(&u.role)),
                        Item::Heard {
                            role,
                            report: Report::Heard(t),
                            ..
                        } if t.is_final => Some(role_slot(role)),
                        _ => None,
                    };
                    if let Some(role_slot) = final_role {
                        let mut cleared = st.partials[role_slot].take().is_some();
                        if role_slot == 0 {
                            cleared |= st.partials[3].take().is_some();
                        }
                        if cleared {
                            m::superseded();
                        }
                    }
                    st.queue.push_back((seq, it));
                    self.items.notify_one();
                    return Ok(());
                }
                item = Some(it);
            }
            self.space.notified().await;
        }
    }

    /// The next item in arrival order (a superseded partial is simply gone).
    pub(super) async fn pop(&self) -> Option<Item> {
        loop {
            {
                let mut st = self.lock();
                let front = st.queue.front().map(|(s, _)| *s);
                let oldest_partial = st
                    .partials
                    .iter()
                    .enumerate()
                    .filter_map(|(i, p)| p.as_ref().map(|(s, _)| (*s, i)))
                    .min();
                match (front, oldest_partial) {
                    (Some(q), Some((p, i))) if p < q => {
                        return st.partials[i].take().map(|(_, it)| it);
                    }
                    (Some(_), _) => {
                        let it = st.queue.pop_front().map(|(_, it)| it);
                        self.space.notify_one();
                        return it;
                    }
                    (None, Some((_, i))) => return st.partials[i].take().map(|(_, it)| it),
                    (None, None) if st.closed => return None,
                    (None, None) => {}
                }
            }
            self.items.notified().await;
        }
    }

    pub(super) fn close(&self) {
        self.lock().closed = true;
        self.space.notify_one();
        self.items.notify_one();
    }
}
