//! `GET /v1/stream`: one WebSocket connection = a reader (frames → a bounded inbox), a worker (inbox →
//! engine → messages) and a writer (messages → socket, with a write timeout).
//!
//! Backpressure: finals and control messages wait in a bounded queue; when it is full the reader stops
//! reading the socket (TCP pushes back on the client) — they are never dropped. Partials and drafts sit in one
//! slot per role (and one for drafts): a newer one replaces an unprocessed older one, and messages derived
//! from them are dropped when the output queue is full. A client that does not read for `write_timeout_ms`
//! is disconnected (its session still ends with a final score for its SSE listeners).

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::{Notify, mpsc};

use crate::conv::{Conversation, Event};
use crate::metrics as m;
use crate::protocol::{self, In, ProtoError, close, code, error_json};
use crate::server::App;

enum Item {
    Msg(In, Instant),
    Error(ProtoError),
    Fatal(ProtoError, u16),
    Disconnected,
    Shutdown,
}

#[derive(Default)]
struct InboxState {
    seq: u64,
    queue: VecDeque<(u64, Item)>,
    /// Pending partial per slot: agent, customer, system utterance; draft.
    partials: [Option<(u64, Item)>; 4],
    closed: bool,
}

struct Inbox {
    state: Mutex<InboxState>,
    items: Notify,
    space: Notify,
    cap: usize,
}

/// The worker is gone; nothing more will be read.
struct Closed;

fn slot(item: &Item) -> Option<usize> {
    match item {
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
    fn new(cap: usize) -> Inbox {
        Inbox {
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
    async fn push(&self, item: Item) -> Result<(), Closed> {
        let terminal = matches!(item, Item::Disconnected | Item::Shutdown | Item::Fatal(..));
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
                if terminal || st.queue.len() < self.cap {
                    // A final utterance supersedes the pending partial of its role (and an agent final the
                    // draft it became).
                    if let Item::Msg(In::Utterance(u), _) = &it {
                        let role_slot = match u.role.as_str() {
                            "agent" => 0,
                            "customer" => 1,
                            _ => 2,
                        };
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
    async fn pop(&self) -> Option<Item> {
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

    fn close(&self) {
        self.lock().closed = true;
        self.space.notify_one();
        self.items.notify_one();
    }
}

enum Out {
    Text(Arc<str>),
    Close(u16, &'static str),
}

/// Counts a connection while it lives (also when the upgrade never completes).
pub struct ConnGuard(pub Arc<App>);

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::SeqCst);
        m::connection(-1.0);
        self.0.conn_done.notify_waiters();
    }
}

/// Runs one upgraded connection to its end.
pub async fn run(socket: WebSocket, guard: ConnGuard) {
    let app = Arc::clone(&guard.0);
    let limits = app.config.limits.clone();
    let (sink, mut stream) = socket.split();
    let (out_tx, out_rx) = mpsc::channel::<Out>(limits.out_queue);
    let inbox = Arc::new(Inbox::new(limits.queue_depth));
    let mut writer = tokio::spawn(write_loop(sink, out_rx, limits.write_timeout()));
    let worker = tokio::spawn(work_loop(Arc::clone(&app), Arc::clone(&inbox), out_tx));
    let mut shutdown = app.shutdown_rx();
    let mut writer_done = false;
    loop {
        let item = tokio::select! {
            biased;
            _ = shutdown.wait_for(|v| *v) => Item::Shutdown,
            _ = &mut writer, if !writer_done => { writer_done = true; Item::Disconnected }
            frame = stream.next() => match frame {
                None | Some(Ok(Message::Close(_))) => Item::Disconnected,
                Some(Err(e)) => {
                    let text = e.to_string();
                    if text.contains("too long") || text.contains("too big") || text.contains("Space limit") {
                        Item::Fatal(too_big(limits.max_frame_bytes), close::TOO_BIG)
                    } else {
                        Item::Disconnected
                    }
                }
                Some(Ok(Message::Text(t))) => {
                    if t.len() > limits.max_frame_bytes {
                        Item::Fatal(too_big(limits.max_frame_bytes), close::TOO_BIG)
                    } else {
                        match protocol::parse(t.as_str()) {
                            Ok(msg) => Item::Msg(msg, Instant::now()),
                            Err(e) => Item::Error(e),
                        }
                    }
                }
                Some(Ok(Message::Binary(_))) => Item::Error(ProtoError::new(code::BINARY, "binary frames are not part of the protocol; send JSON text frames")),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            }
        };
        let last = matches!(item, Item::Disconnected | Item::Shutdown | Item::Fatal(..));
        if inbox.push(item).await.is_err() || last {
            break;
        }
    }
    // The worker ends after the terminal item (or already has); then the writer drains and ends.
    let _ = worker.await;
    if !writer_done {
        let _ = writer.await;
    }
    drop(guard);
}

fn too_big(max: usize) -> ProtoError {
    ProtoError::new(
        code::FRAME_TOO_LARGE,
        format!("frame over the limit of {max} bytes"),
    )
}

async fn write_loop(
    mut sink: futures_util::stream::SplitSink<WebSocket, Message>,
    mut rx: mpsc::Receiver<Out>,
    timeout: std::time::Duration,
) {
    while let Some(out) = rx.recv().await {
        let (msg, last) = match out {
            Out::Text(t) => (Message::Text(Utf8Bytes::from(&*t)), false),
            Out::Close(code, reason) => (
                Message::Close(Some(CloseFrame {
                    code,
                    reason: Utf8Bytes::from_static(reason),
                })),
                true,
            ),
        };
        let sent = tokio::time::timeout(timeout, async {
            sink.feed(msg).await?;
            if last || rx.is_empty() {
                sink.flush().await?;
            }
            Ok::<(), axum::Error>(())
        })
        .await;
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return,
            Err(_) => {
                m::rejected("slow_consumer");
                m::error(code::SLOW_CONSUMER);
                return;
            }
        }
        if last {
            let _ = tokio::time::timeout(timeout, sink.close()).await;
            return;
        }
    }
}

struct Worker {
    app: Arc<App>,
    out: mpsc::Sender<Out>,
    conv: Option<Arc<Conversation>>,
}

impl Worker {
    /// Sends one event; events from partials are dropped when the output queue is full.
    async fn emit(&self, e: &Event) -> bool {
        let out = Out::Text(Arc::clone(&e.data));
        if e.partial {
            match self.out.try_send(out) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    m::superseded();
                    true
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            }
        } else {
            self.out.send(out).await.is_ok()
        }
    }

    async fn error(&self, e: &ProtoError, reference: Option<&Value>) -> bool {
        m::error(e.code);
        self.out
            .send(Out::Text(error_json(e, reference).into()))
            .await
            .is_ok()
    }

    /// Ends the session in progress: the final score (to listeners, and to the client when `send`).
    async fn finish(&mut self, send: bool) -> bool {
        let Some(conv) = self.conv.take() else {
            return true;
        };
        let result = self.app.registry.end(&conv, None);
        self.app.registry.release(&conv);
        match result {
            Ok(e) if send => self.emit(&e).await,
            _ => true,
        }
    }

    async fn handle(&mut self, msg: In, received: Instant) -> bool {
        let app = Arc::clone(&self.app);
        match msg {
            In::Start(s) => {
                if self.conv.is_some() {
                    return self
                        .error(
                            &ProtoError::new(
                                code::SESSION_ACTIVE,
                                "a conversation is in progress on this connection: send session.end first",
                            ),
                            None,
                        )
                        .await;
                }
                if app.shutting_down() {
                    return self
                        .error(
                            &ProtoError::new(code::SHUTTING_DOWN, "the server is shutting down"),
                            None,
                        )
                        .await;
                }
                match app.registry.start(
                    &app.engines,
                    &s.conversation_id,
                    s.ruleset.as_deref(),
                    true,
                ) {
                    Ok((conv, started)) => {
                        self.conv = Some(conv);
                        self.emit(&started).await
                    }
                    Err(e) if e.code == code::CAPACITY => {
                        m::rejected("capacity");
                        self.error(&e, None).await;
                        let _ = self
                            .out
                            .send(Out::Close(close::TRY_AGAIN, "at capacity"))
                            .await;
                        false
                    }
                    Err(e) => self.error(&e, None).await,
                }
            }
            In::Utterance(u) => {
                let Some(conv) = self.conv.clone() else {
                    return self.error(&no_session(), u.reference.as_ref()).await;
                };
                match conv.utterance(&app.engines, &u) {
                    Ok(out) => {
                        for e in &out.events {
                            if !self.emit(e).await {
                                return false;
                            }
                        }
                        if u.is_final {
                            m::hint_latency(received.elapsed());
                        }
                        true
                    }
                    Err(e) => self.error(&e, u.reference.as_ref()).await,
                }
            }
            In::Draft(d) => {
                let Some(conv) = self.conv.clone() else {
                    return self.error(&no_session(), d.reference.as_ref()).await;
                };
                match conv.draft(&app.engines, &d) {
                    Ok(out) => {
                        for e in &out.events {
                            if !self.emit(e).await {
                                return false;
                            }
                        }
                        true
                    }
                    Err(e) => self.error(&e, d.reference.as_ref()).await,
                }
            }
            In::Score(r) => match self
                .conv
                .as_ref()
                .map(|c| c.score(false, r.reference.as_ref()))
            {
                Some(Ok(e)) => self.emit(&e).await,
                Some(Err(e)) => self.error(&e, r.reference.as_ref()).await,
                None => self.error(&no_session(), r.reference.as_ref()).await,
            },
            In::End(r) => {
                if self.conv.is_none() {
                    return self.error(&no_session(), r.reference.as_ref()).await;
                }
                self.finish(true).await
            }
        }
    }
}

fn no_session() -> ProtoError {
    ProtoError::new(
        code::NO_SESSION,
        "no conversation in progress: send session.start first",
    )
}

async fn work_loop(app: Arc<App>, inbox: Arc<Inbox>, out: mpsc::Sender<Out>) {
    let mut w = Worker {
        app,
        out,
        conv: None,
    };
    while let Some(item) = inbox.pop().await {
        let go_on = match item {
            Item::Msg(msg, received) => w.handle(msg, received).await,
            Item::Error(e) => w.error(&e, None).await,
            Item::Fatal(e, code) => {
                w.error(&e, None).await;
                w.finish(false).await;
                let _ = w.out.send(Out::Close(code, "frame too large")).await;
                false
            }
            Item::Disconnected => false,
            Item::Shutdown => {
                w.finish(true).await;
                let _ = w
                    .out
                    .send(Out::Close(close::GOING_AWAY, "server shutting down"))
                    .await;
                false
            }
        };
        if !go_on {
            break;
        }
    }
    inbox.close();
    // Disconnected, slow consumer or the writer gone: the session still ends and is scored for listeners.
    w.finish(false).await;
}
