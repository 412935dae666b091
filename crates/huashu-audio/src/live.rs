//! Live audio: a stream of 16 kHz samples cut into utterances as it arrives, with a first partial
//! recognition `first_partial_ms` after speech starts, then one every `partial_every_ms`, and a final one
//! when the utterance ends.
//!
//! [`LiveSegmenter`] is the pure state machine (no recogniser, no threads): push samples, get
//! [`LiveJob`]s to recognise. The sidecar runs the jobs on its bounded blocking pool; [`LiveTranscriber`]
//! runs them inline with any [`Recognize`] (tests, tools). Encodings telephony and browsers send are
//! decoded by [`decode_frame`].
//!
//! The detector is the streaming form of [`crate::vad`]: 20 ms frames, speech when a frame's energy is above
//! both an absolute floor and the running noise floor plus a margin; an utterance opens at the first speech
//! frame (with `pad_ms` of pre-roll), and closes after `end_silence_ms` without speech, at
//! `max_utterance_ms`, or at the end of the stream.

use crate::{AudioError, Recognize, Segment};

mod frames;

pub use frames::{Encoding, FrameDecoder, decode_frame, mulaw_to_f32};

/// Sample rate of everything after [`decode_frame`].
pub const LIVE_RATE: u32 = 16_000;

/// Tuning of live cutting and partial results.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiveOptions {
    pub frame_ms: u32,
    /// Absolute energy floor in dBFS: quieter frames are never speech.
    pub min_db: f32,
    /// Margin above the running noise floor in dB.
    pub margin_db: f32,
    /// Silence that ends an utterance.
    pub end_silence_ms: u32,
    /// Utterances with less speech than this are dropped (clicks), unless a partial was already sent.
    pub min_speech_ms: u32,
    /// Audio kept before the first speech frame and after the last.
    pub pad_ms: u32,
    /// The first partial of an utterance is recognised once this much audio came since its first speech
    /// frame (an agent sees words while the customer is still on the first clause) ...
    pub first_partial_ms: u32,
    /// ... and the next ones every this much new audio while the utterance is open (at a speech frame).
    pub partial_every_ms: u32,
    /// Partials recognise at most the last this-much of the utterance (the rolling window).
    pub window_ms: u32,
    /// A partial is cut only when at least this much new speech (speech frames) came since the last one:
    /// a pause followed by a click does not re-recognise audio whose text is already known.
    pub partial_min_new_speech_ms: u32,
    /// Longer utterances are cut (Whisper's window is 30 s).
    pub max_utterance_ms: u32,
    /// After this much silence following speech (at least `pad_ms`), the utterance so far is sent as a
    /// candidate final ([`LiveJob::is_candidate`]): if no speech comes before `end_silence_ms`, the final
    /// holds exactly that audio, so its recognition is already under way when the utterance closes. 0: off.
    pub candidate_after_ms: u32,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            frame_ms: 20,
            min_db: -50.0,
            margin_db: 12.0,
            end_silence_ms: 600,
            min_speech_ms: 150,
            pad_ms: 200,
            first_partial_ms: 400,
            partial_every_ms: 1000,
            window_ms: 10_000,
            partial_min_new_speech_ms: 300,
            max_utterance_ms: 28_000,
            candidate_after_ms: 300,
        }
    }
}

/// Audio to recognise: the utterance (final) or its rolling window (partial).
#[derive(Debug, Clone, PartialEq)]
pub struct LiveJob {
    /// Index of the utterance in the stream (0, 1, …): partials and the final of one utterance share it.
    pub utterance: u64,
    pub is_final: bool,
    /// Stream time of the utterance's start and of the end of this audio, in ms.
    pub start_ms: u64,
    pub end_ms: u64,
    /// Stream time of the utterance's first speech frame (its start without the pre-roll), and of the end
    /// of its last speech frame so far (for latency measurements).
    pub speech_start_ms: u64,
    pub speech_end_ms: u64,
    /// 16 kHz samples: the whole utterance for a final, its last `window_ms` for a partial.
    pub pcm: Vec<f32>,
}

impl LiveJob {
    /// A candidate final: a partial cut in the silence after speech (a partial is otherwise cut at a speech
    /// frame, so its audio ends with its speech), holding the whole utterance with its end padding. When the
    /// utterance then closes without more speech, its final has the same audio and the same `end_ms`.
    pub fn is_candidate(&self) -> bool {
        !self.is_final && self.end_ms > self.speech_end_ms
    }

    /// Whether `self` (a candidate) holds exactly the audio of the final `f`.
    pub fn same_audio(&self, f: &LiveJob) -> bool {
        self.utterance == f.utterance
            && self.start_ms == f.start_ms
            && self.end_ms == f.end_ms
            && self.pcm.len() == f.pcm.len()
    }
}

/// The streaming utterance cutter (see the module docs).
#[derive(Debug, Clone)]
pub struct LiveSegmenter {
    opts: LiveOptions,
    frame: usize,
    /// Samples not yet a whole frame.
    pending: Vec<f32>,
    /// Stream position (samples) of the start of `pending`.
    pos: usize,
    /// Pre-roll while no utterance is open (at most `pad_ms`).
    preroll: std::collections::VecDeque<f32>,
    /// Running noise floor in dB (None before the first frame: then `min_db`).
    noise_db: Option<f32>,
    open: Option<Open>,
    next_utterance: u64,
}

#[derive(Debug, Clone)]
struct Open {
    /// Stream position of `pcm[0]`.
    start: usize,
    pcm: Vec<f32>,
    /// Length of `pcm` at the end of the last speech frame.
    speech_end: usize,
    /// Length of `pcm` before the first speech frame (the pre-roll).
    speech_start: usize,
    speech_frames: usize,
    /// Length of `pcm` at the last partial (or the start).
    last_partial: usize,
    /// `speech_frames` at the last partial.
    speech_frames_at_partial: usize,
    partials: usize,
    /// `speech_frames` at the last candidate final (0: none sent).
    speech_frames_at_candidate: usize,
}

impl LiveSegmenter {
    pub fn new(opts: LiveOptions) -> LiveSegmenter {
        let frame = (LIVE_RATE as usize * opts.frame_ms.max(1) as usize / 1000).max(1);
        LiveSegmenter {
            opts,
            frame,
            pending: Vec::new(),
            pos: 0,
            preroll: std::collections::VecDeque::new(),
            noise_db: None,
            open: None,
            next_utterance: 0,
        }
    }

    fn samples(ms: u32) -> usize {
        LIVE_RATE as usize * ms as usize / 1000
    }

    fn ms(samples: usize) -> u64 {
        samples as u64 * 1000 / u64::from(LIVE_RATE)
    }

    /// Whether an utterance is open.
    pub fn in_utterance(&self) -> bool {
        self.open.is_some()
    }

    /// Stream time (ms) where the open utterance starts (its pre-roll included), if one is open: no
    /// utterance of this stream can start earlier any more.
    pub fn open_start_ms(&self) -> Option<u64> {
        self.open.as_ref().map(|o| Self::ms(o.start))
    }

    /// Stream time so far, in ms.
    pub fn now_ms(&self) -> u64 {
        Self::ms(self.pos + self.pending.len())
    }

    /// Feeds 16 kHz samples; returns the jobs they complete, in order.
    pub fn push(&mut self, samples: &[f32]) -> Vec<LiveJob> {
        let mut jobs = Vec::new();
        self.pending.extend_from_slice(samples);
        let frames = self.pending.len() / self.frame;
        if frames == 0 {
            return jobs;
        }
        let taken: Vec<f32> = self.pending.drain(..frames * self.frame).collect();
        for chunk in taken.chunks_exact(self.frame) {
            self.frame_in(chunk, &mut jobs);
            self.pos += self.frame;
        }
        jobs
    }

    /// The end of the stream: the open utterance (and any partial frame) becomes a final, kept to its speech
    /// and `pad_ms` as when silence closes it. So when a call hangs up in the pause after the last words
    /// (the last utterance of every call), a candidate already cut holds the final's audio and is reused,
    /// instead of the final being recognised again for the silence after the padding (the synthetic call's
    /// slowest live final: benches/RESULTS.md, "Speech, session 6").
    pub fn finish(&mut self) -> Vec<LiveJob> {
        let mut jobs = Vec::new();
        let rest = std::mem::take(&mut self.pending);
        if let Some(open) = self.open.as_mut() {
            open.pcm.extend_from_slice(&rest);
        }
        self.pos += rest.len();
        self.close(&mut jobs);
        jobs
    }

    fn frame_in(&mut self, chunk: &[f32], jobs: &mut Vec<LiveJob>) {
        let energy = chunk.iter().map(|s| s * s).sum::<f32>() / chunk.len().max(1) as f32;
        let db = 10.0 * (energy + 1e-10).log10();
        let noise = *self.noise_db.get_or_insert(self.opts.min_db);
        let speech = db > self.opts.min_db && db > noise + self.opts.margin_db;
        // The floor learns from non-speech frames only: down at once, up slowly.
        if !speech {
            self.noise_db = Some(if db < noise {
                db
            } else {
                noise + (db - noise) * 0.05
            });
        }
        let pad = Self::samples(self.opts.pad_ms);
        match self.open.as_mut() {
            None => {
                if speech {
                    let pre: Vec<f32> = self.preroll.drain(..).collect();
                    let start = self.pos - pre.len();
                    let speech_start = pre.len();
                    let mut pcm = pre;
                    pcm.extend_from_slice(chunk);
                    let len = pcm.len();
                    self.open = Some(Open {
                        start,
                        pcm,
                        speech_end: len,
                        speech_start,
                        speech_frames: 1,
                        last_partial: 0,
                        speech_frames_at_partial: 0,
                        partials: 0,
                        speech_frames_at_candidate: 0,
                    });
                } else {
                    self.preroll.extend(chunk.iter().copied());
                    while self.preroll.len() > pad {
                        self.preroll.pop_front();
                    }
                }
            }
            Some(open) => {
                open.pcm.extend_from_slice(chunk);
                if speech {
                    open.speech_end = open.pcm.len();
                    open.speech_frames += 1;
                }
                let silence = open.pcm.len() - open.speech_end;
                let candidate_after = self.opts.candidate_after_ms.max(self.opts.pad_ms);
                if silence >= Self::samples(self.opts.end_silence_ms) {
                    self.close(jobs);
                } else if self.opts.candidate_after_ms > 0
                    && silence >= Self::samples(candidate_after)
                    && open.speech_frames > open.speech_frames_at_candidate
                    && (open.speech_frames - open.speech_frames_at_candidate) * self.frame
                        >= Self::samples(if open.speech_frames_at_candidate == 0 {
                            self.opts.min_speech_ms
                        } else {
                            // A pause broken by a click does not recognise the utterance again.
                            self.opts.partial_min_new_speech_ms
                        })
                {
                    // The audio the final will hold if no speech comes: the speech and its padding.
                    open.speech_frames_at_candidate = open.speech_frames;
                    let end = open.speech_end + pad;
                    jobs.push(LiveJob {
                        utterance: self.next_utterance,
                        is_final: false,
                        start_ms: Self::ms(open.start),
                        end_ms: Self::ms(open.start + end),
                        speech_start_ms: Self::ms(open.start + open.speech_start),
                        speech_end_ms: Self::ms(open.start + open.speech_end),
                        pcm: open.pcm[..end].to_vec(),
                    });
                } else if open.pcm.len() >= Self::samples(self.opts.max_utterance_ms) {
                    // Cut; the next frame of speech opens the next utterance (no pre-roll: it is contiguous).
                    open.speech_end = open.pcm.len();
                    self.close(jobs);
                } else if speech
                    && if open.partials == 0 {
                        open.pcm.len() - open.speech_start
                            >= Self::samples(self.opts.first_partial_ms)
                    } else {
                        open.pcm.len() - open.last_partial
                            >= Self::samples(self.opts.partial_every_ms)
                    }
                    && (open.speech_frames - open.speech_frames_at_partial) * self.frame
                        >= Self::samples(self.opts.partial_min_new_speech_ms)
                {
                    open.last_partial = open.pcm.len();
                    open.speech_frames_at_partial = open.speech_frames;
                    open.partials += 1;
                    let window = Self::samples(self.opts.window_ms).max(1);
                    let from = open.pcm.len().saturating_sub(window);
                    jobs.push(LiveJob {
                        utterance: self.next_utterance,
                        is_final: false,
                        start_ms: Self::ms(open.start),
                        end_ms: Self::ms(open.start + open.pcm.len()),
                        speech_start_ms: Self::ms(open.start + open.speech_start),
                        speech_end_ms: Self::ms(open.start + open.speech_end),
                        pcm: open.pcm[from..].to_vec(),
                    });
                }
            }
        }
    }

    fn close(&mut self, jobs: &mut Vec<LiveJob>) {
        let Some(mut open) = self.open.take() else {
            return;
        };
        let pad = Self::samples(self.opts.pad_ms);
        let end = (open.speech_end + pad).min(open.pcm.len());
        // What follows the kept padding is pre-roll for the next utterance.
        let tail_from = end.max(open.pcm.len().saturating_sub(pad));
        self.preroll = open.pcm[tail_from..].iter().copied().collect();
        open.pcm.truncate(end);
        let speech_ms = open.speech_frames as u64 * u64::from(self.opts.frame_ms);
        let utterance = self.next_utterance;
        self.next_utterance += 1;
        if speech_ms < u64::from(self.opts.min_speech_ms) && open.partials == 0 {
            return;
        }
        jobs.push(LiveJob {
            utterance,
            is_final: true,
            start_ms: Self::ms(open.start),
            end_ms: Self::ms(open.start + open.pcm.len()),
            speech_start_ms: Self::ms(open.start + open.speech_start),
            speech_end_ms: Self::ms(open.start + open.speech_end),
            pcm: open.pcm,
        });
    }
}

/// A recognised job: what the sidecar turns into a `transcript` message and an utterance.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveTranscript {
    pub utterance: u64,
    pub is_final: bool,
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
    pub confidence: f32,
}

/// Joins a recogniser's segments into one transcript (segments Whisper itself thinks are not speech are
/// dropped). `None` when nothing was said.
pub fn transcript_of(job: &LiveJob, segments: &[Segment]) -> Option<LiveTranscript> {
    let kept: Vec<&Segment> = segments
        .iter()
        .filter(|s| s.no_speech < 0.8 && !s.text.trim().is_empty())
        .collect();
    let text = kept
        .iter()
        .map(|s| s.text.trim())
        .collect::<Vec<_>>()
        .join(" ");
    if text.is_empty() {
        return None;
    }
    let confidence = kept.iter().map(|s| s.confidence).sum::<f32>() / kept.len() as f32;
    Some(LiveTranscript {
        utterance: job.utterance,
        is_final: job.is_final,
        start_ms: job.start_ms,
        end_ms: job.end_ms,
        text,
        confidence,
    })
}

/// Segmenter + recogniser run inline: frames in, transcripts out (for tests and tools; the sidecar
/// schedules the same jobs on its pool).
pub struct LiveTranscriber<R: Recognize> {
    pub segmenter: LiveSegmenter,
    pub recognizer: R,
    decoder: FrameDecoder,
    buf: Vec<f32>,
    /// The last candidate final recognised and what it heard (its final reuses it).
    candidate: Option<(LiveJob, Vec<Segment>)>,
}

impl<R: Recognize> std::fmt::Debug for LiveTranscriber<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveTranscriber")
            .field("segmenter", &self.segmenter)
            .finish_non_exhaustive()
    }
}

impl<R: Recognize> LiveTranscriber<R> {
    pub fn new(recognizer: R, encoding: Encoding, opts: LiveOptions) -> LiveTranscriber<R> {
        LiveTranscriber {
            segmenter: LiveSegmenter::new(opts),
            recognizer,
            decoder: FrameDecoder::new(encoding),
            buf: Vec::new(),
            candidate: None,
        }
    }

    /// One wire frame.
    ///
    /// # Errors
    /// A malformed frame or a recogniser failure.
    pub fn frame(&mut self, bytes: &[u8]) -> Result<Vec<LiveTranscript>, AudioError> {
        self.buf.clear();
        self.decoder.decode(bytes, &mut self.buf)?;
        let jobs = self.segmenter.push(&self.buf);
        self.run(jobs)
    }

    /// The end of the stream.
    ///
    /// # Errors
    /// A recogniser failure.
    pub fn finish(&mut self) -> Result<Vec<LiveTranscript>, AudioError> {
        let jobs = self.segmenter.finish();
        self.run(jobs)
    }

    fn run(&mut self, jobs: Vec<LiveJob>) -> Result<Vec<LiveTranscript>, AudioError> {
        let mut out = Vec::new();
        let n = jobs.len();
        for (i, job) in jobs.into_iter().enumerate() {
            // A partial with a later job behind it in the same batch is superseded: its audio is already
            // known to the later one (the final of a frame that both cut and closed, say).
            if !job.is_final && i + 1 < n {
                continue;
            }
            let cached = self.candidate.take();
            let segs = match cached {
                Some((c, segs)) if job.is_final && c.same_audio(&job) => segs,
                _ => self.recognizer.recognize(&job.pcm)?,
            };
            out.extend(transcript_of(&job, &segs));
            if job.is_candidate() {
                self.candidate = Some((job, segs));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
