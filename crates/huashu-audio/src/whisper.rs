//! The recogniser: whisper.cpp through whisper-rs.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Once};
use std::time::Instant;

use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
    WhisperVadContext, WhisperVadContextParams, WhisperVadParams,
};

use crate::call::ms_since;
use crate::{AudioError, Recognize, Segment, StageTimes};

mod fork;

/// Spoken language of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    #[default]
    Zh,
    En,
    /// Detected per utterance.
    Auto,
}

impl Language {
    fn code(self) -> &'static str {
        match self {
            Language::Zh => "zh",
            Language::En => "en",
            Language::Auto => "auto",
        }
    }
}

impl std::str::FromStr for Language {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "zh" | "cmn" | "zh-cn" => Ok(Language::Zh),
            "en" => Ok(Language::En),
            "auto" => Ok(Language::Auto),
            other => Err(format!(
                "unknown language {other:?} (expected zh, en or auto)"
            )),
        }
    }
}

/// The default floor of the fitted encoder window (encoder positions, 50 per second), chosen by the
/// character error rate on real read Mandarin (AISHELL-1, whole and cut into short utterances, and its
/// telephony round trip): see benches/RESULTS.md, "Speech".
pub const AUDIO_CTX_FLOOR: i32 = 512;

/// Flash attention stays off: on this AVX2 build it cost more CPU than it saved (1 thread: 34.5 s against
/// 29.5 s of CPU for the bench clips) and changed the synthetic call's transcript; benches/RESULTS.md,
/// "Speech".
pub const FLASH_ATTN: bool = false;

/// One utterance is decoded with timestamp tokens, as a packed pass is: without them the decoder kept more
/// tokens and heard worse (each of the 19 utterances of the bench clips in its own pass: 276 tokens against
/// 245, synthetic call CER 0.921 against 0.547; at a floor of 256 it looped on jfk), for the one timestamp
/// token a short utterance saves. benches/RESULTS.md, "Speech, session 4".
pub const TIMESTAMPS: bool = true;

/// The decoder's token budget per second of audio (plus 32): a bound on a looping decoder, far above what
/// speech needs (2.5–4 tokens a second on the bench clips; benches/RESULTS.md, "Speech, session 4").
pub const MAX_TOKENS_PER_S: f32 = 8.0;

/// Decoding settings.
#[derive(Debug, Clone)]
pub struct WhisperOptions {
    pub language: Language,
    /// ggml threads; use 1 on a busy machine (ggml threads spin-wait).
    pub threads: usize,
    /// Shrink the encoder window to the utterance (plus `fit_margin_ms`, in steps of 64 positions) instead of
    /// Whisper's full 30 s: on by default (see [`AUDIO_CTX_FLOOR`]).
    pub fit_audio_ctx: bool,
    /// The smallest fitted encoder window, in encoder positions (50 per second).
    pub min_audio_ctx: i32,
    /// Room the fitted window leaves after the audio, in ms.
    pub fit_margin_ms: u32,
    /// An initial prompt: steers the script (e.g. simplified Chinese) and the domain vocabulary.
    pub prompt: Option<String>,
    /// ggml's flash-attention kernels (a context setting: read when the model is loaded).
    pub flash_attn: bool,
    /// Cut utterances with whisper.cpp's Silero VAD (a ggml model file) instead of the energy VAD.
    pub silero_vad: Option<PathBuf>,
    /// Decode timestamp tokens when recognising one utterance (a packed pass always does: its text is split
    /// by them). See [`TIMESTAMPS`].
    pub timestamps: bool,
    /// The decoder's token budget per pass: this many tokens per second of audio, plus 32.
    pub max_tokens_per_s: f32,
    /// When a packed pass's text ends before its audio does, recognise the utterances not heard yet in a
    /// pass fitted to them, instead of whisper.cpp's next window over the rest (an encoder pass with the
    /// whole pass's window, then decoding).
    pub refit_tail: bool,
}

impl Default for WhisperOptions {
    fn default() -> Self {
        WhisperOptions {
            language: Language::Zh,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get().min(4)),
            fit_audio_ctx: true,
            min_audio_ctx: AUDIO_CTX_FLOOR,
            fit_margin_ms: 1500,
            prompt: None,
            flash_attn: FLASH_ATTN,
            silero_vad: None,
            timestamps: TIMESTAMPS,
            max_tokens_per_s: MAX_TOKENS_PER_S,
            refit_tail: true,
        }
    }
}

/// A loaded Whisper model and one decoding state: one `Whisper` per concurrent transcription
/// ([`Whisper::share`] gives another state over the same weights).
pub struct Whisper {
    ctx: Arc<WhisperContext>,
    state: WhisperState,
    eot: i32,
    pub options: WhisperOptions,
    /// Profile each recognition (see [`Whisper::set_profile`]).
    profile: bool,
    times: StageTimes,
    /// The Silero VAD, when [`WhisperOptions::silero_vad`] names one.
    vad: Option<WhisperVadContext>,
    /// Set from another thread to stop the running recognition early ([`Whisper::abort_flag`]).
    abort: Arc<AtomicBool>,
    /// Encoder windows of the running pass, counted (and capped) by whisper.cpp's encoder-begin callback.
    windows: Box<Windows>,
    /// The threads this one had before [`Recognize::fork`] shared them out.
    forked_from: Option<usize>,
}

/// What whisper.cpp's encoder-begin callback reads and writes during one pass.
#[derive(Debug, Default)]
struct Windows {
    run: AtomicU64,
    /// At most this many windows (0: no cap); a window refused ends the pass with what it has.
    cap: AtomicU64,
    /// A window was refused: the text ended before the audio did.
    stopped: AtomicBool,
}

impl std::fmt::Debug for Whisper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Whisper")
            .field("options", &self.options)
            .finish()
    }
}

static LOGGING: Once = Once::new();

impl Whisper {
    /// Loads a ggml Whisper model.
    ///
    /// # Errors
    /// [`AudioError::NoModel`] when the file is missing or not a Whisper model whisper.cpp accepts.
    pub fn load(path: &Path, options: WhisperOptions) -> Result<Whisper, AudioError> {
        LOGGING.call_once(whisper_rs::install_logging_hooks);
        if !path.is_file() {
            return Err(AudioError::NoModel(format!(
                "{} is not a file",
                path.display()
            )));
        }
        let mut params = WhisperContextParameters::default();
        params.flash_attn(options.flash_attn);
        let ctx = WhisperContext::new_with_params(path, params).map_err(|e| {
            AudioError::NoModel(format!(
                "{} is not a usable ggml Whisper model: {e}",
                path.display()
            ))
        })?;
        Whisper::with_context(Arc::new(ctx), options)
    }

    /// Another decoder over the same weights.
    ///
    /// # Errors
    /// When whisper.cpp cannot allocate a state.
    pub fn share(&self) -> Result<Whisper, AudioError> {
        Whisper::with_context(Arc::clone(&self.ctx), self.options.clone())
    }

    fn with_context(
        ctx: Arc<WhisperContext>,
        options: WhisperOptions,
    ) -> Result<Whisper, AudioError> {
        let state = ctx
            .create_state()
            .map_err(|e| AudioError::Recognition(format!("cannot create a decoding state: {e}")))?;
        let eot = ctx.token_eot();
        let vad = match &options.silero_vad {
            Some(path) => Some(load_silero(path)?),
            None => None,
        };
        Ok(Whisper {
            ctx,
            state,
            eot,
            options,
            profile: false,
            times: StageTimes::default(),
            vad,
            abort: Arc::default(),
            windows: Box::default(),
            forked_from: None,
        })
    }

    /// Measure the log-mel, encoder and decoder time of each recognition ([`Recognize::take_times`]).
    /// whisper.cpp keeps no per-state timings, so after each `full` run the same log-mel and encoder pass is
    /// timed again on the same state (same window): the decoder is the rest. Doubles the encoder work: for
    /// `huashu bench` only.
    pub fn set_profile(&mut self, on: bool) {
        self.profile = on;
    }

    /// whisper.cpp's build and CPU features (`AVX2 = 1 | ...`).
    pub fn system_info() -> String {
        whisper_rs::print_system_info().to_owned()
    }

    /// A flag that, once set (from any thread), stops the running recognition early: whisper.cpp checks it
    /// after the encoder and after each decoder step, and the recognition then fails. Whoever sets it
    /// clears it before the next recognition (the sidecar drops a partial this way when its final comes).
    pub fn abort_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.abort)
    }

    /// Whether the model is multilingual (an English-only model cannot do `zh`).
    pub fn is_multilingual(&self) -> bool {
        self.ctx.is_multilingual()
    }
}

/// Loads whisper.cpp's Silero VAD model (ggml format), on one thread: the network is a small LSTM run on
/// 32 ms chunks, one tiny graph each, so a second thread only adds a barrier per chunk, and on a loaded
/// machine the spinning waits dominate (jfk.wav with two VAD threads, load 5: 42 s wall, 28 s CPU, 94 % of
/// it in `ggml_barrier`; with one: 0.66 s, as with the energy VAD).
fn load_silero(path: &Path) -> Result<WhisperVadContext, AudioError> {
    let bad = |why: &str| AudioError::NoModel(format!("Silero VAD {}: {why}", path.display()));
    if !path.is_file() {
        return Err(bad("not a file"));
    }
    let name = path.to_str().ok_or_else(|| bad("the path is not UTF-8"))?;
    let mut params = WhisperVadContextParams::default();
    params.set_n_threads(1);
    WhisperVadContext::new(name, params)
        .map_err(|e| bad(&format!("not a VAD model whisper.cpp accepts ({e})")))
}

/// Silero's settings, matched to the energy VAD's ([`crate::vad::VadOptions`]): pauses under 600 ms
/// bridged, utterances under 150 ms dropped, 200 ms of padding, at most 28 s.
fn silero_params(opts: &crate::vad::VadOptions) -> WhisperVadParams {
    let mut p = WhisperVadParams::new();
    p.set_threshold(0.5);
    p.set_min_speech_duration(opts.min_speech_ms as i32);
    p.set_min_silence_duration(opts.max_gap_ms as i32);
    p.set_max_speech_duration(opts.max_utterance_ms as f32 / 1000.0);
    p.set_speech_pad(opts.pad_ms as i32);
    p.set_samples_overlap(0.0);
    p
}

impl Whisper {
    /// One `full` pass over `pcm` with the options' settings (fitted window, prompt, bounded decoding), timed
    /// when profiling. A packed pass decodes timestamps and times its tokens (its text is split by them);
    /// one utterance only when [`WhisperOptions::timestamps`] says so. The results stay in the state.
    fn run(&mut self, pcm: &[f32], packed: bool) -> Result<(), AudioError> {
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        let lang = if self.is_multilingual() {
            self.options.language.code()
        } else {
            "en"
        };
        params.set_language(Some(lang));
        params.set_n_threads(self.options.threads.max(1) as i32);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_special(false);
        params.set_print_timestamps(false);
        params.set_no_context(true);
        params.set_suppress_blank(true);
        params.set_suppress_nst(true);
        params.set_no_timestamps(!(packed || self.options.timestamps));
        params.set_token_timestamps(packed);
        // Bound the worst case: no temperature fallback loops (whisper.cpp decodes once at temperature 0),
        // and a token budget from the audio's length.
        params.set_temperature_inc(0.0);
        let secs = pcm.len() as f32 / 16_000.0;
        params.set_max_tokens((secs * self.options.max_tokens_per_s.max(0.0)) as i32 + 32);
        if self.options.fit_audio_ctx && secs < 29.0 {
            // 1500 encoder positions = 30 s; keep a margin and a floor (too small a window hurts accuracy).
            let margin = self.options.fit_margin_ms as f32 / 1000.0;
            let ctx = ((((secs + margin) * 50.0) as i32) + 63) / 64 * 64;
            params.set_audio_ctx(ctx.clamp(self.options.min_audio_ctx.clamp(64, 1500), 1500));
        }
        if let Some(p) = &self.options.prompt {
            params.set_initial_prompt(p);
        }
        // whisper.cpp starts another window, encoder and all (with the window fitted to the whole pass), when
        // the text ends at a timestamp short of the audio's end. A packed pass stops there instead: its
        // utterances not heard yet get a pass of their own, fitted to them (`recognize_many`).
        self.windows.run.store(0, Ordering::Relaxed);
        self.windows.cap.store(
            u64::from(packed && self.options.refit_tail),
            Ordering::Relaxed,
        );
        self.windows.stopped.store(false, Ordering::Relaxed);
        // whisper-rs's safe abort callback leaks its closure on every call (a daemon runs a partial a
        // second per stream), so the plain callbacks read and count through fields `self` owns.
        #[allow(unsafe_code)]
        // SAFETY: the user data are `Arc::as_ptr` of `self.abort` and the boxed `self.windows`, alive as
        // long as `self` (the box's address does not move with `self`); `params` is consumed by the `full`
        // call below, which returns before `self` can be dropped, and the callbacks only touch the atomics.
        unsafe {
            params.set_abort_callback(Some(abort_requested));
            params.set_abort_callback_user_data(Arc::as_ptr(&self.abort).cast_mut().cast());
            params.set_start_encoder_callback(Some(count_window));
            params.set_start_encoder_callback_user_data(
                std::ptr::from_ref::<Windows>(&self.windows)
                    .cast_mut()
                    .cast(),
            );
        }
        let threads = self.options.threads.max(1);
        let t = Instant::now();
        self.state
            .full(params, pcm)
            .map_err(|e| AudioError::Recognition(e.to_string()))?;
        if self.profile {
            let full_ms = ms_since(t);
            let tokens = (0..self.state.full_n_segments())
                .filter_map(|i| self.state.get_segment(i))
                .map(|s| s.n_tokens().max(0) as u64)
                .sum();
            let windows = self.windows.run.load(Ordering::Relaxed);
            let err = |e: whisper_rs::WhisperError| AudioError::Recognition(e.to_string());
            let t = Instant::now();
            self.state.pcm_to_mel(pcm, threads).map_err(err)?;
            let mel_ms = ms_since(t);
            let t = Instant::now();
            self.state.encode(0, threads).map_err(err)?;
            let encoder_ms = ms_since(t);
            self.times += StageTimes {
                mel_ms,
                encoder_ms,
                decoder_ms: (full_ms - mel_ms - encoder_ms).max(0.0),
                calls: 1,
                overhead_ms: mel_ms + encoder_ms,
                windows,
                tokens,
            };
        }
        Ok(())
    }
}

/// whisper.cpp's encoder-begin callback: counts the windows of a pass; false (whisper.cpp then ends the
/// pass, keeping the text so far) past the cap.
#[allow(unsafe_code)]
unsafe extern "C" fn count_window(
    _ctx: *mut whisper_rs::WhisperSysContext,
    _state: *mut whisper_rs::WhisperSysState,
    windows: *mut std::ffi::c_void,
) -> bool {
    // SAFETY: `windows` is the boxed `Windows` of the `Whisper` whose `full` call is running (see
    // `Whisper::run`).
    let w = unsafe { &*windows.cast::<Windows>() };
    let cap = w.cap.load(Ordering::Relaxed);
    if cap > 0 && w.run.load(Ordering::Relaxed) >= cap {
        w.stopped.store(true, Ordering::Relaxed);
        return false;
    }
    w.run.fetch_add(1, Ordering::Relaxed);
    true
}

/// whisper.cpp's abort callback: true once the flag its user data points at is set.
#[allow(unsafe_code)]
unsafe extern "C" fn abort_requested(flag: *mut std::ffi::c_void) -> bool {
    // SAFETY: `flag` is the `AtomicBool` of the `Whisper` whose `full` call is running (see `Whisper::run`).
    unsafe { (*flag.cast::<AtomicBool>()).load(Ordering::Relaxed) }
}

/// The text tokens of a packed pass that belong to one utterance.
#[derive(Debug, Clone)]
struct Part {
    bytes: Vec<u8>,
    prob: f32,
    tokens: usize,
    no_speech: f32,
    /// Samples of the packed audio the tokens span.
    from: usize,
    to: usize,
}

impl Default for Part {
    fn default() -> Self {
        Part {
            bytes: Vec::new(),
            prob: 0.0,
            tokens: 0,
            no_speech: 0.0,
            from: usize::MAX,
            to: 0,
        }
    }
}

impl Part {
    /// The utterance's one segment (none when no token fell in it), times relative to its `start`.
    fn segment(self, start: usize) -> Vec<Segment> {
        if self.tokens == 0 {
            return Vec::new();
        }
        let ms = |x: usize| x.saturating_sub(start) as u64 / 16;
        vec![Segment {
            text: crate::clean_transcript(&String::from_utf8_lossy(&self.bytes)),
            start_ms: ms(self.from),
            end_ms: ms(self.to),
            confidence: self.prob / self.tokens as f32,
            no_speech: self.no_speech,
        }]
    }
}

impl Recognize for Whisper {
    fn utterances(
        &mut self,
        pcm: &[f32],
        opts: &crate::vad::VadOptions,
    ) -> Option<Result<Vec<crate::vad::Utterance>, AudioError>> {
        let vad = self.vad.as_mut()?;
        let segments = match vad.segments_from_samples(silero_params(opts), pcm) {
            Ok(s) => s,
            Err(e) => return Some(Err(AudioError::Recognition(format!("Silero VAD: {e}")))),
        };
        // Segment times are centiseconds; padding never makes two utterances overlap.
        let mut out: Vec<crate::vad::Utterance> = Vec::new();
        for seg in segments {
            let at = |cs: f32| ((cs.max(0.0) * 160.0) as usize).min(pcm.len());
            let start = out
                .last()
                .map_or(at(seg.start), |u| at(seg.start).max(u.end));
            let end = at(seg.end);
            if end > start {
                out.push(crate::vad::Utterance { start, end });
            }
        }
        Some(Ok(out))
    }

    fn recognize(&mut self, pcm: &[f32]) -> Result<Vec<Segment>, AudioError> {
        if pcm.is_empty() {
            return Ok(Vec::new());
        }
        self.run(pcm, false)?;
        // Without timestamp tokens whisper.cpp dates the one segment to the end of its 30 s window: times
        // are kept within the audio (callers time turns by the VAD anyway).
        let len_ms = pcm.len() as u64 / 16;
        let n = self.state.full_n_segments();
        let mut out = Vec::with_capacity(n.max(0) as usize);
        for i in 0..n {
            let Some(seg) = self.state.get_segment(i) else {
                continue;
            };
            // Whisper writes Mandarin in either script: transcripts are always simplified, and its
            // decoding loops are cut back.
            let text = crate::clean_transcript(
                &seg.to_str_lossy()
                    .map_err(|e| AudioError::Recognition(e.to_string()))?,
            );
            let (mut sum, mut count) = (0.0f32, 0usize);
            for t in 0..seg.n_tokens() {
                if let Some(tok) = seg.get_token(t) {
                    if tok.token_id() < self.eot {
                        sum += tok.token_probability();
                        count += 1;
                    }
                }
            }
            out.push(Segment {
                text,
                start_ms: ((seg.start_timestamp().max(0) as u64) * 10).min(len_ms),
                end_ms: ((seg.end_timestamp().max(0) as u64) * 10).min(len_ms),
                confidence: if count == 0 { 0.0 } else { sum / count as f32 },
                no_speech: seg.no_speech_probability(),
            });
        }
        Ok(out)
    }

    /// The utterances back to back in one pass; each text token goes to the utterance its time falls in
    /// (a token continuing a character's UTF-8 bytes stays with the one before it), so a segment Whisper
    /// ran across two utterances is still split between them.
    fn recognize_many(
        &mut self,
        pcm: &[f32],
        cut: &[crate::vad::Utterance],
    ) -> Result<Vec<Vec<Segment>>, AudioError> {
        if cut.len() < 2 {
            return cut
                .iter()
                .map(|u| self.recognize(&pcm[u.start..u.end]))
                .collect();
        }
        self.run(&crate::pack::packed(pcm, cut), true)?;
        let layout = crate::pack::layout(cut);
        let mut parts: Vec<Part> = vec![Part::default(); cut.len()];
        let err = |e: whisper_rs::WhisperError| AudioError::Recognition(e.to_string());
        for i in 0..self.state.full_n_segments() {
            let Some(seg) = self.state.get_segment(i) else {
                continue;
            };
            let no_speech = seg.no_speech_probability();
            let mut last: Option<usize> = None;
            for t in 0..seg.n_tokens() {
                let Some(tok) = seg.get_token(t) else {
                    continue;
                };
                if tok.token_id() >= self.eot {
                    continue;
                }
                let bytes = tok.to_bytes().map_err(err)?;
                let d = tok.token_data();
                // Token times are centiseconds of the packed audio (160 samples each).
                let from = d.t0.max(0) as usize * 160;
                let to = (d.t1.max(d.t0).max(0) as usize * 160).max(from + 1);
                let continues = bytes.first().is_some_and(|b| (0x80..0xC0).contains(b));
                let o = match last {
                    Some(o) if continues => o,
                    _ => crate::pack::owner(&layout, from, to),
                };
                last = Some(o);
                let p = &mut parts[o];
                p.bytes.extend_from_slice(bytes);
                p.prob += tok.token_probability();
                p.tokens += 1;
                p.no_speech = p.no_speech.max(no_speech);
                p.from = p.from.min(from);
                p.to = p.to.max(to);
            }
        }
        // The text ended before the audio did: the utterances after the last one heard get a pass of
        // their own (none is heard twice; the pass shrinks each time, so this ends).
        let tail = parts
            .iter()
            .rposition(|p| p.tokens > 0)
            .map_or(0, |i| i + 1);
        let retry = self.windows.stopped.load(Ordering::Relaxed) && tail > 0 && tail < cut.len();
        let mut heard: Vec<Vec<Segment>> = parts
            .into_iter()
            .zip(&layout)
            .map(|(p, r)| p.segment(r.start))
            .collect();
        if retry {
            for (slot, segs) in heard[tail..]
                .iter_mut()
                .zip(self.recognize_many(pcm, &cut[tail..])?)
            {
                *slot = segs;
            }
        }
        Ok(heard)
    }

    fn take_times(&mut self) -> StageTimes {
        std::mem::take(&mut self.times)
    }

    fn set_profile(&mut self, on: bool) {
        self.profile = on;
    }

    fn fork(&mut self, ways: usize) -> Result<Vec<Box<dyn Recognize + Send>>, AudioError> {
        self.fork_threads(ways)
    }

    fn unfork(&mut self, forks: Vec<Box<dyn Recognize + Send>>) {
        self.unfork_threads(forks);
    }
}
