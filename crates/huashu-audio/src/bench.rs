//! Measuring the speech path (`huashu bench --audio`): error rates against a reference transcript, and the
//! time a recording spends in each stage (decode, resample, VAD, and the recogniser's log-mel, encoder and
//! decoder), as real-time factors. Everything here is pure: the recogniser is any [`Recognize`], so the
//! report is tested with a fake one.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use crate::call::{self, AudioTurn, CallOptions, PipelineTimes, Recognize, ms_since};
use crate::{AudioError, decode_file};

/// What an error rate counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Characters (Chinese): CER.
    Char,
    /// Words (English and other spaced scripts): WER.
    Word,
}

impl Unit {
    /// Characters when the reference has any Chinese character, else words.
    pub fn for_reference(reference: &str) -> Unit {
        if reference.chars().any(huashu_text::is_cjk) {
            Unit::Char
        } else {
            Unit::Word
        }
    }
}

/// An edit-distance error rate: (substitutions + deletions + insertions) / reference length.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ErrorRate {
    pub unit: Unit,
    pub rate: f64,
    pub errors: usize,
    pub substitutions: usize,
    pub deletions: usize,
    pub insertions: usize,
    /// Reference length in units.
    pub length: usize,
}

/// Width, case and traditional→simplified folded; nothing else.
fn fold(text: &str) -> String {
    let opts = huashu_text::Options {
        width: true,
        case: true,
        traditional: true,
        numbers: false,
        noise: false,
        repeats: false,
        spelling: false,
        mentions: false,
        pronouns: false,
        sentence_spaces: false,
    };
    huashu_text::normalize(text, &opts).as_str().to_owned()
}

/// The units of `text` that are compared: for characters, every letter, digit or ideograph after folding
/// (punctuation and spaces dropped; Latin letters count one each); for words, runs of letters, digits and
/// apostrophes.
pub fn units(text: &str, unit: Unit) -> Vec<String> {
    let folded = fold(text);
    match unit {
        Unit::Char => folded
            .chars()
            .filter(|c| c.is_alphanumeric())
            .map(String::from)
            .collect(),
        Unit::Word => folded
            .split(|c: char| !(c.is_alphanumeric() || c == '\''))
            .map(|w| w.trim_matches('\''))
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect(),
    }
}

/// Error rate of `hypothesis` against `reference` in `unit` (see [`units`]). An empty reference gives rate
/// 0 when the hypothesis is empty too, else 1 per inserted unit.
pub fn error_rate(reference: &str, hypothesis: &str, unit: Unit) -> ErrorRate {
    let r = units(reference, unit);
    let h = units(hypothesis, unit);
    let (s, d, i) = edit_ops(&r, &h);
    let errors = s + d + i;
    ErrorRate {
        unit,
        rate: errors as f64 / r.len().max(1) as f64,
        errors,
        substitutions: s,
        deletions: d,
        insertions: i,
        length: r.len(),
    }
}

/// Levenshtein alignment counts (substitutions, deletions, insertions), fewest errors, ties to
/// substitutions.
fn edit_ops<T: PartialEq>(r: &[T], h: &[T]) -> (usize, usize, usize) {
    // cost, subs, dels, ins per cell; one row at a time.
    type Cell = (usize, usize, usize, usize);
    let mut prev: Vec<Cell> = (0..=h.len()).map(|j| (j, 0, 0, j)).collect();
    for (i, rc) in r.iter().enumerate() {
        let mut cur: Vec<Cell> = Vec::with_capacity(h.len() + 1);
        cur.push((i + 1, 0, i + 1, 0));
        for (j, hc) in h.iter().enumerate() {
            let diag = prev[j];
            let sub = if rc == hc {
                diag
            } else {
                (diag.0 + 1, diag.1 + 1, diag.2, diag.3)
            };
            let up = prev[j + 1];
            let del = (up.0 + 1, up.1, up.2 + 1, up.3);
            let left = cur[j];
            let ins = (left.0 + 1, left.1, left.2, left.3 + 1);
            let best = [sub, del, ins]
                .into_iter()
                .min_by_key(|c| c.0)
                .unwrap_or(sub);
            cur.push(best);
        }
        prev = cur;
    }
    let last = prev[h.len()];
    (last.1, last.2, last.3)
}

/// Milliseconds (or real-time factors) per stage of the offline path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Stages {
    pub decode: f64,
    pub resample: f64,
    pub vad: f64,
    /// The recogniser's log-mel spectrogram, encoder and decoder (when it profiles itself: Whisper does).
    pub mel: f64,
    pub encoder: f64,
    pub decoder: f64,
    /// All recogniser calls, wall clock (mel + encoder + decoder + overheads).
    pub recognise: f64,
    /// Decode to last turn.
    pub total: f64,
}

impl Stages {
    /// Every field divided by `d` (ms of audio → real-time factor).
    pub fn per(&self, d: f64) -> Stages {
        let d = if d > 0.0 { d } else { f64::INFINITY };
        Stages {
            decode: self.decode / d,
            resample: self.resample / d,
            vad: self.vad / d,
            mel: self.mel / d,
            encoder: self.encoder / d,
            decoder: self.decoder / d,
            recognise: self.recognise / d,
            total: self.total / d,
        }
    }
}

impl std::ops::AddAssign for Stages {
    fn add_assign(&mut self, o: Stages) {
        self.decode += o.decode;
        self.resample += o.resample;
        self.vad += o.vad;
        self.mel += o.mel;
        self.encoder += o.encoder;
        self.decoder += o.decoder;
        self.recognise += o.recognise;
        self.total += o.total;
    }
}

/// The recogniser's work on a recording: what the decoder's share of the time is made of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Work {
    /// Recogniser calls (one per utterance, or per packed pass).
    pub passes: u64,
    /// Encoder windows (Whisper may run more than one per pass).
    pub windows: u64,
    /// Tokens decoded (each one decoder step).
    pub tokens: u64,
}

impl std::ops::AddAssign for Work {
    fn add_assign(&mut self, o: Work) {
        self.passes += o.passes;
        self.windows += o.windows;
        self.tokens += o.tokens;
    }
}

/// One recording through the offline path, timed.
#[derive(Debug, Clone)]
pub struct OfflineRun {
    /// Recording length in seconds.
    pub audio_s: f64,
    pub channels: usize,
    pub utterances: usize,
    /// Milliseconds per stage.
    pub ms: Stages,
    pub work: Work,
    pub turns: Vec<AudioTurn>,
}

/// Decodes, resamples, cuts and recognises `path` as `huashu transcribe` does, timing each stage: the
/// path is timed as it runs (the total, its turns), then recognised again with the recogniser profiling
/// for the split between its stages and its work.
///
/// # Errors
/// As [`crate::transcribe_file`].
pub fn run_file(
    path: &Path,
    rec: &mut dyn Recognize,
    opts: &CallOptions,
) -> Result<OfflineRun, AudioError> {
    let t0 = Instant::now();
    let audio = decode_file(path)?;
    let decode_ms = ms_since(t0);
    // Profiling adds its own passes (Whisper re-runs the encoder), and channels recognised side by side
    // overlap them: subtracting their time from the wall clock would not give the path's. So the total
    // comes from a run without it.
    rec.set_profile(false);
    let _ = rec.take_times();
    let mut times = PipelineTimes::default();
    let turns = call::transcribe_timed(&audio, rec, opts, &mut times)?;
    let total = ms_since(t0);
    rec.set_profile(true);
    let _ = rec.take_times();
    call::transcribe_timed(&audio, rec, opts, &mut PipelineTimes::default())?;
    let stages = rec.take_times();
    rec.set_profile(false);
    let frames = audio.channels.first().map_or(0, Vec::len);
    Ok(OfflineRun {
        audio_s: frames as f64 / f64::from(audio.rate.max(1)),
        channels: audio.channels.len(),
        utterances: times.utterances,
        ms: Stages {
            decode: decode_ms,
            resample: times.resample_ms,
            vad: times.vad_ms,
            mel: stages.mel_ms,
            encoder: stages.encoder_ms,
            decoder: stages.decoder_ms,
            recognise: times.recognise_ms,
            total,
        },
        work: Work {
            passes: stages.calls,
            windows: stages.windows,
            tokens: stages.tokens,
        },
        turns,
    })
}

/// The text of a transcript in time order (turns joined; a space only between Latin words).
pub fn transcript_text<'a>(texts: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for t in texts {
        let t = t.trim();
        if t.is_empty() {
            continue;
        }
        if out.chars().last().is_some_and(|c| c.is_ascii()) && t.starts_with(|c: char| c.is_ascii())
        {
            out.push(' ');
        }
        out.push_str(t);
    }
    out
}

/// Latency figures of the live simulation (filled by the sidecar's simulator).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LiveFigures {
    /// Utterances that got a final transcript.
    pub utterances: usize,
    /// Speech onset (first speech frame) → first partial transcript delivered, ms of stream time.
    pub first_partial_ms: Summary,
    /// Speech onset → first transcript of any kind (a short utterance gets only a final).
    pub first_result_ms: Summary,
    /// End of speech (last speech frame) → final transcript delivered.
    pub final_ms: Summary,
    /// Partials the segmenter cut, that the recogniser ran, and that were skipped as stale or redundant.
    pub partials_cut: usize,
    pub partials_run: usize,
    pub partials_skipped: usize,
    /// Candidate finals cut (in the silence after speech; recognised as finals, counted apart).
    pub candidates_cut: usize,
    /// Recogniser busy time over stream time.
    pub busy_rtf: f64,
    /// Finals in order, joined.
    pub text: String,
    pub error_rate: Option<ErrorRate>,
    /// The final that came latest after its speech ended, with what ran meanwhile.
    pub slowest_final: Option<SlowestFinal>,
    /// Every final's latency, by stream and speech end: which utterances make the tail.
    pub finals: Vec<FinalLatency>,
    /// Every first partial's latency after its speech onset (`speech_end_ms` holds the onset here), and the
    /// slowest with every recognition that ran between its cut and its delivery.
    pub first_partials: Vec<FinalLatency>,
    pub slowest_first_partial: Option<SlowestFinal>,
}

/// When one final came: its stream (channel), utterance, the stream time its speech ended, and after it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct FinalLatency {
    pub stream: usize,
    pub utterance: u64,
    pub speech_end_ms: f64,
    pub latency_ms: f64,
}

/// A final and every recognition (of any stream) that ran between the end of its speech and its delivery:
/// what it waited for.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SlowestFinal {
    /// The stream (channel) and utterance.
    pub stream: usize,
    pub utterance: u64,
    /// Stream time the utterance's speech ended.
    pub speech_end_ms: f64,
    pub latency_ms: f64,
    pub recognitions: Vec<Recognition>,
}

/// One recognition of a simulated stream, in stream time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recognition {
    pub stream: usize,
    /// A partial (else a final or a candidate final, recognised alike).
    pub partial: bool,
    pub start_ms: f64,
    pub end_ms: f64,
    /// Length of the audio recognised.
    pub audio_ms: f64,
}

/// Distribution of a latency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    pub p50: f64,
    pub max: f64,
}

impl Summary {
    pub fn of(values: &[f64]) -> Summary {
        if values.is_empty() {
            return Summary::default();
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        Summary {
            n: v.len(),
            mean: v.iter().sum::<f64>() / v.len() as f64,
            p50: v[(v.len() - 1) / 2],
            max: v[v.len() - 1],
        }
    }
}

/// One recording's figures.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub file: String,
    pub audio_s: f64,
    pub channels: usize,
    pub utterances: usize,
    pub ms: Stages,
    pub rtf: Stages,
    pub work: Work,
    pub text: String,
    pub reference: Option<String>,
    pub error_rate: Option<ErrorRate>,
    pub live: Option<LiveFigures>,
}

impl FileReport {
    /// The report of an offline run, scored against `reference` when given.
    pub fn new(file: String, run: &OfflineRun, reference: Option<String>) -> FileReport {
        let text = transcript_text(run.turns.iter().map(|t| t.turn.text.as_str()));
        let error_rate = reference
            .as_deref()
            .map(|r| error_rate(r, &text, Unit::for_reference(r)));
        FileReport {
            file,
            audio_s: run.audio_s,
            channels: run.channels,
            utterances: run.utterances,
            ms: run.ms,
            rtf: run.ms.per(run.audio_s * 1000.0),
            work: run.work,
            text,
            reference,
            error_rate,
            live: None,
        }
    }
}

/// Totals over all recordings.
#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    pub audio_s: f64,
    pub ms: Stages,
    pub rtf: Stages,
    pub work: Work,
}

impl Totals {
    pub fn of(files: &[FileReport]) -> Totals {
        let mut ms = Stages::default();
        let mut work = Work::default();
        let mut audio_s = 0.0;
        for f in files {
            ms += f.ms;
            work += f.work;
            audio_s += f.audio_s;
        }
        Totals {
            audio_s,
            ms,
            rtf: ms.per(audio_s * 1000.0),
            work,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Segment, StageTimes};

    #[test]
    fn cer_on_simplified_characters_without_punctuation() {
        let r = error_rate(
            "甚至出现交易几乎停滞的情况",
            "甚至出現交易幾乎停滯的情況。",
            Unit::Char,
        );
        assert_eq!(r.errors, 0, "{r:?}");
        assert_eq!(r.length, 13);
        // One substitution (现→限), one deletion (的), one insertion (了).
        let r = error_rate(
            "甚至出现交易几乎停滞的情况",
            "甚至出限交易几乎停滞情况了",
            Unit::Char,
        );
        assert_eq!(
            (r.substitutions, r.deletions, r.insertions),
            (1, 1, 1),
            "{r:?}"
        );
        assert!((r.rate - 3.0 / 13.0).abs() < 1e-9);
        // Full-width letters and spaces fold away.
        assert_eq!(error_rate("ＡＢ 卡", "ab卡", Unit::Char).errors, 0);
        assert_eq!(Unit::for_reference("我不知道"), Unit::Char);
        assert_eq!(Unit::for_reference("I do not know"), Unit::Word);
    }

    #[test]
    fn wer_on_words_case_and_punctuation_folded() {
        let r = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.";
        let h = " and so my fellow americans ask not what your country can do for you ask what you can do for your country";
        let e = error_rate(r, h, Unit::Word);
        assert_eq!((e.errors, e.length), (0, 22));
        let e = error_rate(
            r,
            "And so my fellow Americans, ask what your country can do for you.",
            Unit::Word,
        );
        assert_eq!(e.deletions, 9, "{e:?}");
        assert_eq!(e.substitutions, 0, "{e:?}");
        assert_eq!(units("don't stop", Unit::Word), ["don't", "stop"]);
        let e = error_rate("", "", Unit::Word);
        assert_eq!((e.errors, e.rate), (0, 0.0));
        assert_eq!(error_rate("", "x y", Unit::Word).errors, 2);
    }

    struct Fake;
    impl Recognize for Fake {
        fn recognize(&mut self, pcm: &[f32]) -> Result<Vec<Segment>, AudioError> {
            Ok(vec![Segment {
                text: format!("話{}", pcm.len() / 16_000),
                start_ms: 0,
                end_ms: 1,
                confidence: 0.9,
                no_speech: 0.0,
            }])
        }
        fn take_times(&mut self) -> StageTimes {
            StageTimes {
                mel_ms: 1.0,
                encoder_ms: 2.0,
                decoder_ms: 3.0,
                calls: 1,
                overhead_ms: 0.0,
                windows: 2,
                tokens: 7,
            }
        }
    }

    #[test]
    fn report_shape() {
        let dir = std::env::temp_dir().join(format!("huashu-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("a.wav");
        // 1 s silence, 2 s tone, 1 s silence at 16 kHz, 16-bit mono.
        let mut pcm: Vec<i16> = vec![0; 16_000];
        pcm.extend((0..32_000).map(|i| (8_000.0 * (i as f32 * 0.05).sin()) as i16));
        pcm.extend(vec![0; 16_000]);
        let mut wav = Vec::new();
        let data = (pcm.len() * 2) as u32;
        wav.extend_from_slice(b"RIFF");
        wav.extend_from_slice(&(36 + data).to_le_bytes());
        wav.extend_from_slice(b"WAVEfmt ");
        wav.extend_from_slice(&16u32.to_le_bytes());
        wav.extend_from_slice(&1u16.to_le_bytes());
        wav.extend_from_slice(&1u16.to_le_bytes());
        wav.extend_from_slice(&16_000u32.to_le_bytes());
        wav.extend_from_slice(&32_000u32.to_le_bytes());
        wav.extend_from_slice(&2u16.to_le_bytes());
        wav.extend_from_slice(&16u16.to_le_bytes());
        wav.extend_from_slice(b"data");
        wav.extend_from_slice(&data.to_le_bytes());
        wav.extend(pcm.iter().flat_map(|s| s.to_le_bytes()));
        std::fs::write(&path, wav).expect("write");

        let run = run_file(&path, &mut Fake, &CallOptions::default()).expect("run");
        std::fs::remove_dir_all(&dir).ok();
        assert!((run.audio_s - 4.0).abs() < 1e-9);
        assert_eq!((run.channels, run.utterances, run.turns.len()), (1, 1, 1));
        let report = FileReport::new("a.wav".into(), &run, Some("话2".into()));
        assert_eq!(report.text, "話2");
        assert_eq!(report.error_rate.map(|e| e.errors), Some(0));
        assert!((report.rtf.encoder - 2.0 / 4000.0).abs() < 1e-12);
        assert!(report.ms.total >= report.ms.decode + report.ms.recognise);
        let v = serde_json::to_value(&report).expect("json");
        for key in [
            "decode",
            "resample",
            "vad",
            "mel",
            "encoder",
            "decoder",
            "recognise",
            "total",
        ] {
            assert!(v["rtf"][key].is_number(), "{key}: {v}");
        }
        assert_eq!(v["error_rate"]["unit"], "char");
        assert!(v["live"].is_null());
        assert_eq!(
            (
                v["work"]["passes"].as_u64(),
                v["work"]["windows"].as_u64(),
                v["work"]["tokens"].as_u64()
            ),
            (Some(1), Some(2), Some(7))
        );
        let totals = Totals::of(&[report.clone(), report]);
        assert!((totals.audio_s - 8.0).abs() < 1e-9);
        assert_eq!(
            (totals.work.passes, totals.work.windows, totals.work.tokens),
            (2, 4, 14)
        );
        assert!((totals.rtf.encoder - 4.0 / 8000.0).abs() < 1e-12);
        assert_eq!(Summary::of(&[3.0, 1.0, 2.0]).p50, 2.0);
        assert_eq!(Summary::of(&[]).n, 0);
    }
}
