//! The parties of one live call: one audio stream per party (agent, customer), each with its own frame
//! decoder, VAD ([`LiveSegmenter`]) and recogniser task, and a [`Merger`] that lets their final
//! transcripts into the conversation in the order they were spoken (stream time). Used by `/v1/stream`
//! (`audio.start` with `roles`: interleaved channels) and by every telephony adapter
//! (`crate::integrations`). This module knows nothing of sockets: frames in, transcripts out.

pub mod merger;

use std::sync::Arc;
use std::time::{Duration, Instant};

use huashu_audio::live::{
    Encoding, FrameDecoder, LiveJob, LiveOptions, LiveSegmenter, LiveTranscript,
};
use serde::Serialize;
use tokio::sync::{OwnedSemaphorePermit, mpsc};

use crate::audio::{AsyncReport, JOB_QUEUE, Report, Speech, transcribe_loop};
use crate::protocol::{ProtoError, code};
pub use merger::Merger;

/// How long a final waits for the other party before it goes in anyway (a party whose audio stopped).
pub const MAX_HOLD: Duration = Duration::from_secs(3);

/// Longest silence [`Parties::pad_to`] adds at once (an hour).
pub const MAX_PAD_MS: u64 = 3_600_000;

/// What one party's audio looked like (routing checks, `GET /v1/integrations/calls/{id}`).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct PartyStats {
    /// Wire frames received.
    pub frames: u64,
    /// Audio received, in ms (16 kHz samples after decoding).
    pub audio_ms: u64,
    /// Level of everything received, dBFS (−100 for silence or nothing).
    pub level_dbfs: f64,
    /// Dominant pitch of the voiced audio, from zero crossings (Hz): a test tone is recognisable by it.
    pub tone_hz: f64,
    /// Utterances the VAD cut (finals).
    pub utterances: u64,
    /// Final transcripts that went into the conversation.
    pub finals: u64,
    #[serde(skip)]
    samples: u64,
    #[serde(skip)]
    sum_sq: f64,
    #[serde(skip)]
    crossings: u64,
    /// Samples above the hysteresis (the pitch is over these: silence between lines does not lower it).
    #[serde(skip)]
    voiced: u64,
    #[serde(skip)]
    positive: bool,
}

impl PartyStats {
    fn add(&mut self, pcm: &[f32]) {
        self.frames += 1;
        for &s in pcm {
            self.sum_sq += f64::from(s) * f64::from(s);
            if s.abs() > 1e-3 {
                self.voiced += 1;
            }
            // Crossings with a little hysteresis, so quiet noise does not count.
            if self.positive && s < -1e-3 {
                self.positive = false;
                self.crossings += 1;
            } else if !self.positive && s > 1e-3 {
                self.positive = true;
                self.crossings += 1;
            }
        }
        self.samples += pcm.len() as u64;
        let secs = self.voiced as f64 / 16_000.0;
        self.audio_ms = self.samples / 16;
        self.level_dbfs = if self.sum_sq > 0.0 {
            (10.0 * (self.sum_sq / self.samples as f64).log10()).max(-100.0)
        } else {
            -100.0
        };
        self.tone_hz = if secs > 0.0 {
            self.crossings as f64 / 2.0 / secs
        } else {
            0.0
        };
    }
}

/// One party's stream.
struct Party {
    role: Arc<str>,
    decoder: FrameDecoder,
    segmenter: LiveSegmenter,
    /// None: no recogniser (stats only), or the stream has ended.
    jobs: Option<mpsc::Sender<LiveJob>>,
    task: Option<tokio::task::JoinHandle<()>>,
    stats: PartyStats,
    ended: bool,
}

impl Drop for Party {
    fn drop(&mut self) {
        if let Some(t) = &self.task {
            t.abort();
        }
    }
}

/// What a report changed.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Transcripts to put into the conversation now, in order: (party, transcript).
    pub released: Vec<(usize, LiveTranscript)>,
    /// A recognition failed (the stream goes on).
    pub failed: Option<String>,
    /// Every party's stream has ended and drained.
    pub all_done: bool,
}

/// The parties of one call.
pub struct Parties {
    parties: Vec<Party>,
    merger: Merger,
    encoding: Encoding,
    buf: Vec<f32>,
    chan: Vec<u8>,
    /// One `audio.max_streams` permit per recognised party, held while the call lives.
    _permits: Option<OwnedSemaphorePermit>,
}

impl std::fmt::Debug for Parties {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parties")
            .field("roles", &self.roles().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Parties {
    /// Opens one stream per role. With `speech`, each gets a recogniser (one `audio.max_streams` slot
    /// each) whose results `report(party)` delivers; without, audio is only decoded, cut and counted.
    ///
    /// # Errors
    /// `capacity` (not enough stream slots), `bad_message` (the recogniser refused the language).
    pub fn open<R: AsyncReport + 'static>(
        speech: Option<&Speech>,
        roles: &[Arc<str>],
        encoding: Encoding,
        language: Option<&str>,
        mut report: impl FnMut(usize) -> R,
    ) -> Result<Parties, ProtoError> {
        let mut permits = None;
        let mut recognizers = Vec::new();
        if let Some(speech) = speech {
            let n = u32::try_from(roles.len()).unwrap_or(u32::MAX);
            let Ok(p) = Arc::clone(&speech.streams).try_acquire_many_owned(n) else {
                crate::metrics::rejected("audio_capacity");
                return Err(ProtoError::new(
                    code::CAPACITY,
                    format!(
                        "too many live audio streams (audio.max_streams; this call needs {n}); try again later"
                    ),
                ));
            };
            permits = Some(p);
            for _ in roles {
                recognizers.push(Some(speech.factory.recognizer(language).map_err(|e| {
                    ProtoError::new(code::BAD_MESSAGE, format!("audio.start: {e}"))
                })?));
            }
        } else {
            recognizers.resize_with(roles.len(), || None);
        }
        let mut merger = Merger::new(roles.len(), MAX_HOLD);
        let now = Instant::now();
        let mut parties = Vec::new();
        for (i, (role, rec)) in roles.iter().zip(recognizers).enumerate() {
            let (jobs, task) = match (rec, speech) {
                (Some(rec), Some(speech)) => {
                    let (tx, rx) = mpsc::channel(JOB_QUEUE);
                    let task = tokio::spawn(transcribe_loop(
                        rx,
                        rec,
                        Arc::clone(&speech.pool),
                        report(i),
                    ));
                    (Some(tx), Some(task))
                }
                _ => {
                    // Nothing will ever be heard from it: it holds nobody back.
                    let _ = merger.done(i, now);
                    (None, None)
                }
            };
            parties.push(Party {
                role: Arc::clone(role),
                decoder: FrameDecoder::new(encoding),
                segmenter: LiveSegmenter::new(LiveOptions::default()),
                jobs,
                task,
                stats: PartyStats::default(),
                ended: false,
            });
        }
        Ok(Parties {
            parties,
            merger,
            encoding,
            buf: Vec::new(),
            chan: Vec::new(),
            _permits: permits,
        })
    }

    pub fn len(&self) -> usize {
        self.parties.len()
    }

    pub fn is_empty(&self) -> bool {
        self.parties.is_empty()
    }

    pub fn roles(&self) -> impl Iterator<Item = &str> {
        self.parties.iter().map(|p| &*p.role)
    }

    pub fn role(&self, party: usize) -> Option<&Arc<str>> {
        self.parties.get(party).map(|p| &p.role)
    }

    pub fn stats(&self) -> Vec<(Arc<str>, PartyStats)> {
        self.parties
            .iter()
            .map(|p| (Arc::clone(&p.role), p.stats))
            .collect()
    }

    /// Whether the party's stream is still open for audio.
    pub fn is_open(&self, party: usize) -> bool {
        self.parties.get(party).is_some_and(|p| !p.ended)
    }

    /// One frame of interleaved samples, one channel per party in order.
    ///
    /// # Errors
    /// A frame that is not a whole number of samples for every channel, or not valid in the encoding (the
    /// frame is dropped).
    pub async fn interleaved(&mut self, bytes: &[u8]) -> Result<(), String> {
        let n = self.parties.len();
        if n == 1 {
            return self.frame(0, bytes).await;
        }
        let width = self.encoding.sample_bytes();
        if bytes.len() % (n * width) != 0 {
            return Err(format!(
                "a frame of {} bytes is not a whole number of {n}-channel samples of {width} byte(s); the frame was dropped",
                bytes.len()
            ));
        }
        let mut chan = std::mem::take(&mut self.chan);
        for p in 0..n {
            chan.clear();
            for sample in bytes.chunks_exact(n * width) {
                chan.extend_from_slice(&sample[p * width..(p + 1) * width]);
            }
            let r = self.frame(p, &chan).await;
            if r.is_err() {
                self.chan = chan;
                return r;
            }
        }
        self.chan = chan;
        Ok(())
    }

    /// One frame of party `party`'s audio.
    ///
    /// # Errors
    /// A frame not valid in the encoding (dropped).
    pub async fn frame(&mut self, party: usize, bytes: &[u8]) -> Result<(), String> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let Some(p) = self.parties.get_mut(party).filter(|p| !p.ended) else {
            self.buf = buf;
            return Ok(());
        };
        if let Err(e) = p.decoder.decode(bytes, &mut buf) {
            self.buf = buf;
            return Err(format!("{e}; the frame was dropped"));
        }
        p.stats.add(&buf);
        let jobs = p.segmenter.push(&buf);
        self.buf = buf;
        self.dispatch(party, jobs).await;
        Ok(())
    }

    async fn dispatch(&mut self, party: usize, jobs: Vec<LiveJob>) {
        let Some(p) = self.parties.get_mut(party) else {
            return;
        };
        p.stats.utterances += jobs.iter().filter(|j| j.is_final).count() as u64;
        self.merger.cut(
            party,
            &jobs,
            p.segmenter.open_start_ms(),
            p.segmenter.now_ms(),
        );
        if let Some(tx) = p.jobs.clone() {
            if crate::audio::dispatch(&tx, jobs).await.is_none() {
                p.jobs = None;
            }
        }
    }

    /// Stream time party `party` has reached, in ms.
    pub fn now_ms(&self, party: usize) -> u64 {
        self.parties.get(party).map_or(0, |p| p.segmenter.now_ms())
    }

    /// Silence for party `party` up to stream time `to_ms` (at most [`MAX_PAD_MS`] at once): a party whose
    /// audio starts late (a leg answered after the other, a reconnect) stays on the call's clock, so its
    /// utterances are ordered against the other party's as they were spoken.
    pub async fn pad_to(&mut self, party: usize, to_ms: u64) {
        let mut left = to_ms.saturating_sub(self.now_ms(party)).min(MAX_PAD_MS);
        let second = vec![0.0f32; 16_000];
        while left > 0 {
            let ms = left.min(1000);
            let Some(p) = self.parties.get_mut(party).filter(|p| !p.ended) else {
                return;
            };
            let jobs = p.segmenter.push(&second[..(ms as usize) * 16]);
            self.dispatch(party, jobs).await;
            left -= ms;
        }
    }

    /// The end of party `party`'s audio: its open utterance is cut, its recogniser drains and reports
    /// `Done`.
    pub async fn end_party(&mut self, party: usize) {
        let Some(p) = self.parties.get_mut(party).filter(|p| !p.ended) else {
            return;
        };
        p.ended = true;
        let jobs = p.segmenter.finish();
        self.dispatch(party, jobs).await;
        if let Some(p) = self.parties.get_mut(party) {
            p.jobs = None;
        }
    }

    /// The end of every party's audio.
    pub async fn end_all(&mut self) {
        for p in 0..self.parties.len() {
            self.end_party(p).await;
        }
    }

    /// A report of party `party`'s recogniser.
    pub fn report(&mut self, party: usize, report: Report) -> Outcome {
        let now = Instant::now();
        let mut out = Outcome::default();
        match report {
            Report::Heard(t) => {
                out.released = self.merger.heard(party, t, now);
            }
            Report::Silent {
                utterance,
                is_final,
            } => out.released = self.merger.silent(party, utterance, is_final, now),
            Report::Failed(msg) => {
                out.failed = Some(msg);
                out.released = self.merger.release(now);
            }
            Report::Done => {
                if let Some(p) = self.parties.get_mut(party) {
                    p.task = None;
                }
                out.released = self.merger.done(party, now);
            }
        }
        self.count(&out.released);
        out.all_done = self.merger.all_done();
        out
    }

    /// Finals that have waited long enough ([`MAX_HOLD`]).
    pub fn expire(&mut self) -> Vec<(usize, LiveTranscript)> {
        let out = self.merger.release(Instant::now());
        self.count(&out);
        out
    }

    /// Every held final, in order (the call is over without waiting for the rest).
    pub fn drain(&mut self) -> Vec<(usize, LiveTranscript)> {
        let out = self.merger.drain();
        self.count(&out);
        out
    }

    fn count(&mut self, out: &[(usize, LiveTranscript)]) {
        for (p, t) in out {
            if t.is_final && !t.text.is_empty() {
                if let Some(p) = self.parties.get_mut(*p) {
                    p.stats.finals += 1;
                }
            }
        }
    }

    /// When a held final stops waiting.
    pub fn deadline(&self) -> Option<Instant> {
        self.merger.deadline()
    }

    /// Every party has ended and its recogniser drained.
    pub fn all_done(&self) -> bool {
        self.merger.all_done()
    }
}
