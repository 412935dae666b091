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

use crate::audio::{AsyncReport, JOB_QUEUE, Report, transcribe_loop};
use crate::conv::{Conversation, Event};
use crate::metrics as m;
use crate::protocol::{
    self, AudioEndedMsg, AudioStart, In, ProtoError, TranscriptMsg, Utterance, close, code,
    error_json, to_json,
};
use crate::server::App;
use huashu_audio::live::{Encoding, FrameDecoder, LiveJob, LiveOptions, LiveSegmenter};

enum Item {
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
                Some(Ok(Message::Binary(b))) => {
                    if b.len() > limits.max_frame_bytes {
                        Item::Error(ProtoError::new(
                            code::FRAME_TOO_LARGE,
                            format!("audio frame of {} bytes over the limit of {} bytes; the frame was dropped (send ≤ 1 s per frame)", b.len(), limits.max_frame_bytes),
                        ))
                    } else {
                        Item::Audio(b)
                    }
                }
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
    inbox: Arc<Inbox>,
    audio: Option<AudioStream>,
    streams: u64,
}

/// The open (or draining) audio stream of a connection.
struct AudioStream {
    id: u64,
    role: Arc<str>,
    decoder: FrameDecoder,
    segmenter: LiveSegmenter,
    /// None after `audio.end`: the task drains and reports `Done`.
    jobs: Option<mpsc::Sender<LiveJob>>,
    task: tokio::task::JoinHandle<()>,
    /// Held while the stream is open or draining (`audio.max_streams`).
    _permit: tokio::sync::OwnedSemaphorePermit,
    finals: u64,
    reference: Option<Value>,
    buf: Vec<f32>,
}

impl Drop for AudioStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Delivers a stream's transcripts into the connection's inbox.
struct InboxReport {
    inbox: Arc<Inbox>,
    stream: u64,
    role: Arc<str>,
}

impl AsyncReport for InboxReport {
    async fn report(&mut self, report: Report) -> bool {
        self.inbox
            .push(Item::Heard {
                stream: self.stream,
                role: Arc::clone(&self.role),
                report,
            })
            .await
            .is_ok()
    }
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
        // An audio stream still open is abandoned (its task is aborted; late results are ignored).
        self.audio = None;
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
                    &s.disable,
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
            In::AudioStart(a) => self.audio_start(a).await,
            In::AudioEnd(r) => self.audio_end(r.reference.as_ref()).await,
        }
    }

    async fn audio_start(&mut self, a: AudioStart) -> bool {
        let reference = a.reference.as_ref();
        if self.conv.is_none() {
            return self.error(&no_session(), reference).await;
        }
        let Some(speech) = self.app.speech.get().cloned() else {
            return self
                .error(
                    &ProtoError::new(
                        code::AUDIO_UNAVAILABLE,
                        "live audio is not available: the daemon has no Whisper model (huashu serve --model, \
                         HUASHU_WHISPER_MODEL, and a build with the `audio` feature)",
                    ),
                    reference,
                )
                .await;
        };
        if self.audio.is_some() {
            return self
                .error(
                    &ProtoError::new(
                        code::AUDIO_ACTIVE,
                        "an audio stream is open on this connection: send audio.end and wait for audio.ended",
                    ),
                    reference,
                )
                .await;
        }
        let role = match protocol::role(&a.role) {
            Ok(r) => r,
            Err(e) => return self.error(&e, reference).await,
        };
        let encoding: Encoding = match a.encoding.parse() {
            Ok(e) => e,
            Err(msg) => {
                return self
                    .error(&ProtoError::new(code::BAD_MESSAGE, msg), reference)
                    .await;
            }
        };
        let Ok(permit) = Arc::clone(&speech.streams).try_acquire_owned() else {
            m::rejected("audio_capacity");
            return self
                .error(
                    &ProtoError::new(
                        code::CAPACITY,
                        "too many live audio streams (audio.max_streams); try again later",
                    ),
                    reference,
                )
                .await;
        };
        let recognizer = match speech.factory.recognizer(a.language.as_deref()) {
            Ok(r) => r,
            Err(e) => {
                return self
                    .error(
                        &ProtoError::new(code::BAD_MESSAGE, format!("audio.start: {e}")),
                        reference,
                    )
                    .await;
            }
        };
        self.streams += 1;
        let role: Arc<str> = Arc::from(role.as_str());
        let (tx, rx) = mpsc::channel(JOB_QUEUE);
        let task = tokio::spawn(transcribe_loop(
            rx,
            recognizer,
            Arc::clone(&speech.pool),
            InboxReport {
                inbox: Arc::clone(&self.inbox),
                stream: self.streams,
                role: Arc::clone(&role),
            },
        ));
        self.audio = Some(AudioStream {
            id: self.streams,
            role: Arc::clone(&role),
            decoder: FrameDecoder::new(encoding),
            segmenter: LiveSegmenter::new(LiveOptions::default()),
            jobs: Some(tx),
            task,
            _permit: permit,
            finals: 0,
            reference: a.reference.clone(),
            buf: Vec::new(),
        });
        let msg = serde_json::json!({
            "type": "audio.started",
            "role": &*role,
            "encoding": a.encoding,
            "sample_rate": 16_000,
            "ref": a.reference,
        });
        self.emit(&Event::new("audio.started", msg.to_string(), false))
            .await
    }

    async fn audio_frame(&mut self, bytes: &[u8]) -> bool {
        let Some(stream) = self.audio.as_mut().filter(|s| s.jobs.is_some()) else {
            return self
                .error(
                    &ProtoError::new(
                        code::BINARY,
                        "binary frames are live audio: send audio.start first (the frame was dropped)",
                    ),
                    None,
                )
                .await;
        };
        let mut buf = std::mem::take(&mut stream.buf);
        buf.clear();
        if let Err(e) = stream.decoder.decode(bytes, &mut buf) {
            stream.buf = buf;
            return self
                .error(
                    &ProtoError::new(code::BAD_AUDIO, format!("{e}; the frame was dropped")),
                    None,
                )
                .await;
        }
        let jobs = stream.segmenter.push(&buf);
        stream.buf = buf;
        self.dispatch(jobs).await
    }

    /// Hands jobs to the stream's task: partials only if there is room, finals always (waiting).
    async fn dispatch(&mut self, jobs: Vec<LiveJob>) -> bool {
        let Some(tx) = self.audio.as_ref().and_then(|s| s.jobs.clone()) else {
            return true;
        };
        for job in jobs {
            if job.is_final {
                if tx.send(job).await.is_err() {
                    return true;
                }
            } else if let Err(mpsc::error::TrySendError::Full(_)) = tx.try_send(job) {
                m::superseded();
            }
        }
        true
    }

    async fn audio_end(&mut self, reference: Option<&Value>) -> bool {
        let Some(stream) = self.audio.as_mut().filter(|s| s.jobs.is_some()) else {
            return self
                .error(
                    &ProtoError::new(
                        code::NO_AUDIO,
                        "no audio stream is open: send audio.start first",
                    ),
                    reference,
                )
                .await;
        };
        if reference.is_some() {
            stream.reference = reference.cloned();
        }
        let jobs = stream.segmenter.finish();
        let go_on = self.dispatch(jobs).await;
        if let Some(s) = self.audio.as_mut() {
            // Closing the channel lets the task drain and report Done.
            s.jobs = None;
        }
        go_on
    }

    async fn heard(&mut self, stream: u64, report: Report) -> bool {
        if self.audio.as_ref().is_none_or(|s| s.id != stream) {
            return true;
        }
        match report {
            Report::Heard(t) => {
                let Some(conv) = self.conv.clone() else {
                    return true;
                };
                let role = self
                    .audio
                    .as_ref()
                    .map_or_else(|| Arc::from("agent"), |s| Arc::clone(&s.role));
                let event = Event::new(
                    "transcript",
                    to_json(&TranscriptMsg {
                        kind: "transcript",
                        conversation_id: &conv.id,
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
                conv.publish(std::slice::from_ref(&event));
                if !self.emit(&event).await {
                    return false;
                }
                if t.is_final {
                    if let Some(s) = self.audio.as_mut() {
                        s.finals += 1;
                    }
                }
                let u = Utterance {
                    role: role.to_string(),
                    text: t.text,
                    is_final: t.is_final,
                    start_ms: Some(t.start_ms),
                    end_ms: Some(t.end_ms),
                    reference: None,
                };
                match conv.utterance(&self.app.engines, &u) {
                    Ok(out) => {
                        for e in &out.events {
                            if !self.emit(e).await {
                                return false;
                            }
                        }
                        true
                    }
                    Err(e) => self.error(&e, None).await,
                }
            }
            Report::Failed(msg) => {
                self.error(
                    &ProtoError::new(
                        code::AUDIO_FAILED,
                        format!("speech recognition failed: {msg}"),
                    ),
                    None,
                )
                .await
            }
            Report::Done => {
                let Some(s) = self.audio.take() else {
                    return true;
                };
                let msg = to_json(&AudioEndedMsg {
                    kind: "audio.ended",
                    role: &s.role,
                    utterances: s.finals,
                    reference: s.reference.as_ref(),
                });
                self.emit(&Event::new("audio.ended", msg, false)).await
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
        inbox: Arc::clone(&inbox),
        audio: None,
        streams: 0,
    };
    while let Some(item) = inbox.pop().await {
        let go_on = match item {
            Item::Msg(msg, received) => w.handle(msg, received).await,
            Item::Audio(bytes) => w.audio_frame(&bytes).await,
            Item::Heard { stream, report, .. } => w.heard(stream, report).await,
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
