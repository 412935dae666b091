//! `huashu transcribe` and `huashu score --audio` (feature `audio`): call recordings → timed turns → scores.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use huashu::audio::{self, AudioTurn, CallOptions, ChannelMap, Language, Whisper, WhisperOptions};
use huashu::{Engine, Finding, Report, Tolerance};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use crate::Format;

/// Extensions picked up when a directory is given.
const AUDIO_EXTENSIONS: &[&str] = &["wav", "wave", "flac", "mp3", "ogg", "oga"];

/// Speech recognition settings shared by `transcribe` and `score --audio`.
#[derive(Args, Debug, Clone)]
pub struct AsrArgs {
    /// A ggml Whisper model file, or the name of one scripts/fetch-model cached (base-q8_0, base = f16,
    /// tiny.en) (default: $HUASHU_WHISPER_MODEL, else the cached base-q8_0).
    #[arg(long, value_name = "PATH")]
    model: Option<PathBuf>,
    /// Spoken language: zh, en or auto (detected per utterance).
    #[arg(long, default_value = "zh", value_parser = parse_language)]
    language: Language,
    /// Whisper threads (1 on a busy machine; default: cores, at most 4).
    #[arg(long)]
    threads: Option<usize>,
    /// Role of each channel, left first: "agent,customer", "customer,agent"; "-" ignores a channel.
    #[arg(long, default_value = "agent,customer", value_parser = parse_channels)]
    channels: ChannelMap,
    /// An initial prompt for the recogniser (domain words, or a sentence in the wanted script).
    #[arg(long)]
    prompt: Option<String>,
    /// Use Whisper's full 30 s encoder window for every utterance instead of fitting it to the utterance
    /// (the default: several times faster, same error rate on real Mandarin; benches/RESULTS.md).
    #[arg(long)]
    full_window: bool,
    /// Fit the encoder window (the default now; kept for old scripts).
    #[arg(long, hide = true)]
    fast: bool,
    /// The smallest fitted encoder window, in encoder positions (50 per second; 1500 = Whisper's full 30 s).
    #[arg(long, value_name = "N")]
    audio_ctx_floor: Option<i32>,
    /// Room the fitted encoder window leaves after the audio, in ms (default 1500).
    #[arg(long, value_name = "MS")]
    fit_margin_ms: Option<u32>,
    /// Pinyin-level matching of transcribed turns: homophones (every rule's phrases and regex words heard as
    /// homophones, near-misses for rules with `asr_tolerant = true`), opt-in (those rules only), all
    /// (near-misses for every rule) or off.
    #[arg(long, default_value = "homophones", value_parser = parse_tolerance)]
    asr_tolerance: Tolerance,
    /// Role of a mono recording.
    #[arg(long, default_value = "agent")]
    mono: String,
    /// ggml's flash-attention kernels (default off: slower on CPU here; benches/RESULTS.md, "Speech").
    #[arg(long, value_name = "BOOL", default_value_t = audio::FLASH_ATTN, action = clap::ArgAction::Set)]
    flash_attn: bool,
    /// Cut utterances with this Silero VAD model (whisper.cpp's ggml format). Default: the cached one
    /// (`scripts/fetch-model silero`) when there is one, else the energy VAD.
    #[arg(long, value_name = "PATH")]
    silero_vad: Option<PathBuf>,
    /// Cut utterances with the energy VAD even when a Silero model is cached (it takes loud noise and music
    /// for speech).
    #[arg(long, conflicts_with = "silero_vad")]
    energy_vad: bool,
    /// Recognise each utterance in a pass of its own, instead of a channel's neighbouring utterances
    /// together (up to 28 s per pass: each pass pays the encoder window's floor once; benches/RESULTS.md,
    /// "Speech, session 3").
    #[arg(long)]
    no_pack: bool,
    /// Decode timestamp tokens when an utterance is recognised alone (packed passes always do).
    #[arg(long, value_name = "BOOL", default_value_t = audio::TIMESTAMPS, action = clap::ArgAction::Set)]
    timestamps: bool,
    /// The decoder's token budget per pass: this many tokens per second of audio, plus 32.
    #[arg(long, value_name = "N", default_value_t = audio::MAX_TOKENS_PER_S)]
    max_tokens_per_s: f32,
    /// When a packed pass's text ends before its audio does, recognise the utterances not heard yet in a
    /// pass of their own (true) instead of Whisper's next 30 s-class window over the rest (false).
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    refit_tail: bool,
    /// Recognise a recording's passes (a stereo call's channels, a long recording's pieces) at the same
    /// time, the threads split between them (true), instead of one after another with all the threads each
    /// (false); benches/RESULTS.md, "Speech, session 5" and "Speech, session 11".
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    side_by_side: bool,
}

fn parse_language(s: &str) -> Result<Language, String> {
    s.parse()
}

fn parse_tolerance(s: &str) -> Result<Tolerance, String> {
    s.parse()
}

fn parse_channels(s: &str) -> Result<ChannelMap, String> {
    s.parse().map_err(|e: audio::AudioError| e.to_string())
}

#[derive(Args, Debug)]
pub struct TranscribeArgs {
    #[command(flatten)]
    asr: AsrArgs,
    /// Recordings, or directories of recordings (wav, flac, mp3, ogg).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

impl AsrArgs {
    fn load(&self) -> Result<(Whisper, CallOptions)> {
        let path = audio::model::resolve(self.model.as_deref())?;
        let mut options = WhisperOptions {
            language: self.language,
            ..WhisperOptions::default()
        };
        if let Some(t) = self.threads {
            options.threads = t.max(1);
        }
        options.prompt = self.prompt.clone().filter(|p| !p.is_empty());
        options.fit_audio_ctx = self.fast || !self.full_window;
        if let Some(f) = self.audio_ctx_floor {
            options.min_audio_ctx = f.clamp(64, 1500);
        }
        if let Some(m) = self.fit_margin_ms {
            options.fit_margin_ms = m;
        }
        options.flash_attn = self.flash_attn;
        options.silero_vad = if self.energy_vad {
            None
        } else {
            self.silero_vad
                .clone()
                .or_else(audio::model::cached_silero_vad)
        };
        options.timestamps = self.timestamps;
        options.max_tokens_per_s = self.max_tokens_per_s;
        options.refit_tail = self.refit_tail;
        // Which kernels this build has (AVX2, FMA, ...) decides its speed: say so once.
        eprintln!("huashu: whisper.cpp {}", Whisper::system_info().trim());
        match &options.silero_vad {
            Some(p) => eprintln!("huashu: utterances cut by Silero VAD ({})", p.display()),
            None => eprintln!(
                "huashu: utterances cut by the energy VAD{}",
                if self.energy_vad {
                    ""
                } else {
                    " (no Silero model cached: scripts/fetch-model silero)"
                }
            ),
        }
        let whisper = Whisper::load(&path, options)?;
        if !whisper.is_multilingual() && self.language != Language::En {
            eprintln!(
                "huashu: {} is an English-only model; transcribing as English",
                path.display()
            );
        }
        let mut channels = self.channels.clone();
        channels.mono = huashu::Role::parse(&self.mono)
            .with_context(|| format!("--mono: unknown role {:?}", self.mono))?;
        Ok((
            whisper,
            CallOptions {
                channels,
                pack_ms: if self.no_pack {
                    0
                } else {
                    audio::pack::PACK_MS
                },
                side_by_side: self.side_by_side,
                ..CallOptions::default()
            },
        ))
    }
}

/// Files given, directories expanded (sorted, audio extensions only).
fn expand(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("cannot read directory {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    f.is_file()
                        && f.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                            AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str())
                        })
                })
                .collect();
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn progress(n: usize) -> ProgressBar {
    if n < 2 {
        return ProgressBar::hidden();
    }
    // Drawn on stderr, and only when it is a terminal.
    let bar = ProgressBar::new(n as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed_precise} eta {eta} {msg}")
    {
        bar.set_style(style);
    }
    bar
}

fn label(p: &Path) -> String {
    p.display().to_string()
}

/// `huashu transcribe`: one JSON line per turn, in time order, per recording.
pub fn transcribe(args: &TranscribeArgs) -> Result<ExitCode> {
    let files = expand(&args.files)?;
    let (mut whisper, opts) = args.asr.load()?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let bar = progress(files.len());
    let mut failed = 0;
    for path in &files {
        bar.set_message(label(path));
        match audio::transcribe_file(path, &mut whisper, &opts) {
            Ok(turns) => {
                for t in &turns {
                    let mut v = serde_json::to_value(t)?;
                    if files.len() > 1 {
                        v["file"] = json!(label(path));
                    }
                    serde_json::to_writer(&mut out, &v)?;
                    out.write_all(b"\n")?;
                }
            }
            Err(e) => {
                failed += 1;
                bar.suspend(|| eprintln!("huashu: {}: {e}", path.display()));
                serde_json::to_writer(
                    &mut out,
                    &json!({"file": label(path), "error": e.to_string()}),
                )?;
                out.write_all(b"\n")?;
            }
        }
        out.flush()?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(if failed > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// `huashu score --audio`: transcribe each recording, then score it as one conversation.
pub fn score(ruleset: &str, format: Format, inputs: &[String], asr: &AsrArgs) -> Result<ExitCode> {
    let engine = Arc::new(crate::commands::load_engine(ruleset, &[], true)?);
    let inputs: Vec<PathBuf> = inputs.iter().map(PathBuf::from).collect();
    if inputs.is_empty() {
        anyhow::bail!("score --audio needs recordings (files or directories)");
    }
    let files = expand(&inputs)?;
    let (mut whisper, opts) = asr.load()?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let bar = progress(files.len());
    let mut failed = 0;
    for path in &files {
        bar.set_message(label(path));
        let id = json!(label(path));
        match audio::transcribe_file(path, &mut whisper, &opts) {
            Ok(turns) => {
                let report = score_turns(&engine, &turns, asr.asr_tolerance);
                match format {
                    Format::Jsonl => {
                        serde_json::to_writer(&mut out, &score_json(&id, &report, &turns))?;
                        out.write_all(b"\n")?;
                    }
                    Format::Text => {
                        let plain: Vec<huashu::Turn> =
                            turns.iter().map(|t| t.turn.clone()).collect();
                        out.write_all(crate::score::text_report(&id, &plain, &report).as_bytes())?;
                    }
                }
            }
            Err(e) => {
                failed += 1;
                bar.suspend(|| eprintln!("huashu: {}: {e}", path.display()));
                if format == Format::Jsonl {
                    serde_json::to_writer(&mut out, &json!({"id": id, "error": e.to_string()}))?;
                    out.write_all(b"\n")?;
                }
            }
        }
        out.flush()?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(if failed > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn score_turns(engine: &Arc<Engine>, turns: &[AudioTurn], tolerance: Tolerance) -> Report {
    let plain: Vec<huashu::Turn> = turns.iter().map(|t| t.turn.clone()).collect();
    let confidences: Vec<f32> = turns.iter().map(|t| t.confidence).collect();
    engine.score_asr(&plain, &confidences, tolerance)
}

fn finding_json(f: &Finding) -> Value {
    json!({
        "turn": f.turn_index,
        "rule": f.rule_id,
        "category": f.category.as_str(),
        "severity": f.severity.as_str(),
        "start": f.char_start,
        "end": f.char_end,
        "byte_start": f.span.start,
        "byte_end": f.span.end,
        "matched": f.matched,
        "message": f.message,
        "suggestions": f.suggestions.iter().map(|s| &*s.replacement).collect::<Vec<_>>(),
        "confidence": f.confidence,
    })
}

/// The `score` output contract, plus the transcript the score was computed on.
fn score_json(id: &Value, r: &Report, turns: &[AudioTurn]) -> Value {
    let mut v = json!({
        "id": id,
        "ruleset": r.ruleset,
        "score": r.score,
        "passed": r.passed,
        "fatal": r.fatal,
        "structure": r.structure,
        "checks": r.checks,
        "findings": r.findings.iter().map(finding_json).collect::<Vec<_>>(),
        "findings_total": r.findings_total,
        "transcript": turns,
    });
    if let Some(reason) = &r.fatal_reason {
        v["fatal_reason"] = json!(reason);
    }
    v
}

/// `huashu bench --audio`: the speech path measured on recordings.
#[derive(Args, Debug, Clone)]
pub struct BenchAudioArgs {
    #[command(flatten)]
    asr: AsrArgs,
    /// Recordings to measure (with --audio).
    #[arg(value_name = "FILES")]
    recordings: Vec<PathBuf>,
    /// Reference transcript files, one per recording in order ("-" for none): character error rate when the
    /// reference has Chinese characters (simplified, without punctuation), word error rate otherwise.
    #[arg(long, value_name = "FILE")]
    reference: Vec<String>,
    /// Skip the live simulation (it runs in real time: as long as the recordings).
    #[arg(long)]
    no_live: bool,
    /// Feed the live simulation this many times faster than real time (1: as the daemon would hear it).
    #[arg(long, default_value_t = 1.0)]
    live_speed: f64,
    /// Size of the live simulation's chunks (a client's frame), ms.
    #[arg(long, default_value_t = 20)]
    chunk_ms: u32,
    /// Silence that ends a live utterance, ms (default: the daemon's, `LiveOptions`).
    #[arg(long, value_name = "MS")]
    end_silence_ms: Option<u32>,
    /// Speech before a live utterance's first partial, ms (default: the daemon's, `LiveOptions`).
    #[arg(long, value_name = "MS")]
    first_partial_ms: Option<u32>,
    /// Floor of live partials' encoder window, in positions (default: the daemon's, `PartialWindow`).
    #[arg(long, value_name = "N")]
    partial_ctx_floor: Option<i32>,
    /// Room live partials' encoder window leaves after the audio, ms (default: the daemon's).
    #[arg(long, value_name = "MS")]
    partial_margin_ms: Option<u32>,
    /// Whisper threads of a live partial (default: the daemon's: one for a partial of up to 1 s of audio,
    /// --threads for longer ones): one thread is not held up by a partner thread.
    #[arg(long, value_name = "N")]
    partial_threads: Option<usize>,
    /// Recognitions at once in the live simulation (default: the daemon's, the cores over --threads).
    #[arg(long, value_name = "N")]
    live_pool: Option<usize>,
}

/// The load average (1, 5, 15 minutes), when the system tells.
fn load_average() -> Option<[f64; 3]> {
    let s = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut it = s.split_whitespace().map(|x| x.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

pub fn bench(args: &BenchAudioArgs, json_out: bool) -> Result<ExitCode> {
    use huashu::audio::bench::{FileReport, Totals, Unit, error_rate, run_file};
    use huashu::audio::live::LiveOptions;
    use huashu_sidecar::audio::{
        PartialWindow, RecognizerFactory, WhisperFactory, cores, recognitions_at_once,
        simulate_live_blocking,
    };

    let files = expand(&args.recordings)?;
    if files.is_empty() {
        anyhow::bail!("bench --audio needs recordings (files or directories)");
    }
    if !args.reference.is_empty() && args.reference.len() != files.len() {
        anyhow::bail!(
            "--reference: {} given for {} recordings (one per recording, \"-\" for none)",
            args.reference.len(),
            files.len()
        );
    }
    let load_before = load_average();
    let (mut whisper, opts) = args.asr.load()?;
    let system_info = Whisper::system_info();
    let live_template = whisper.share()?;
    let mut partial = PartialWindow::default();
    if let Some(f) = args.partial_ctx_floor {
        partial.floor = f.clamp(64, 1500);
    }
    if let Some(m) = args.partial_margin_ms {
        partial.margin_ms = m;
    }
    if let Some(t) = args.partial_threads {
        partial.threads = Some(t.max(1));
    }
    let factory = WhisperFactory::from_whisper(live_template).with_partial_window(partial);
    // The daemon's pool for these threads (`huashu serve` with `audio.pool` 0).
    let pool = args
        .live_pool
        .unwrap_or_else(|| recognitions_at_once(cores(), whisper.options.threads))
        .max(1);
    let mut reports = Vec::new();
    for (i, path) in files.iter().enumerate() {
        let reference = match args.reference.get(i).map(String::as_str) {
            None | Some("-") => None,
            Some(f) => Some(
                std::fs::read_to_string(f)
                    .with_context(|| format!("cannot read reference {f}"))?
                    .trim()
                    .to_owned(),
            ),
        };
        // The language of a recording with a reference is the reference's (Chinese characters: zh, else
        // en), so one run covers Mandarin and English clips; without one, --language.
        let language = match &reference {
            Some(r) if Unit::for_reference(r) == Unit::Char => Language::Zh,
            Some(_) => Language::En,
            None => args.asr.language,
        };
        whisper.options.language = language;
        let run =
            run_file(path, &mut whisper, &opts).with_context(|| format!("{}", path.display()))?;
        let mut report = FileReport::new(label(path), &run, reference);
        if !args.no_live {
            let audio = audio::decode_file(path)?;
            let mut streams = Vec::new();
            for (c, samples) in audio.channels.iter().enumerate() {
                let skip = audio.channels.len() > 1
                    && opts.channels.roles.get(c) == Some(&huashu::Role::System);
                if skip {
                    continue;
                }
                let pcm = audio::resample(samples, audio.rate, audio::TARGET_RATE)?;
                let code = match language {
                    Language::En => "en",
                    Language::Zh => "zh",
                    Language::Auto => "auto",
                };
                let rec = factory.recognizer(Some(code))?;
                streams.push((pcm, rec));
            }
            let mut live_opts = LiveOptions::default();
            if let Some(ms) = args.end_silence_ms {
                live_opts.end_silence_ms = ms;
            }
            if let Some(ms) = args.first_partial_ms {
                live_opts.first_partial_ms = ms;
            }
            let mut live =
                simulate_live_blocking(streams, pool, live_opts, args.chunk_ms, args.live_speed)?;
            live.error_rate = report
                .reference
                .as_deref()
                .map(|r| error_rate(r, &live.text, Unit::for_reference(r)));
            report.live = Some(live);
        }
        if !json_out {
            print_file(&report)?;
        }
        reports.push(report);
    }
    let totals = Totals::of(&reports);
    let opts_used = &whisper.options;
    let v = json!({
        "model": audio::model::resolve(args.asr.model.as_deref())?.display().to_string(),
        "threads": opts_used.threads,
        "fit_audio_ctx": opts_used.fit_audio_ctx,
        "min_audio_ctx": opts_used.min_audio_ctx,
        "fit_margin_ms": opts_used.fit_margin_ms,
        "prompt": opts_used.prompt,
        "flash_attn": opts_used.flash_attn,
        "silero_vad": opts_used.silero_vad,
        "timestamps": opts_used.timestamps,
        "max_tokens_per_s": opts_used.max_tokens_per_s,
        "refit_tail": opts_used.refit_tail,
        "pack_ms": opts.pack_ms,
        "side_by_side": opts.side_by_side,
        "live_pool": pool,
        "live_speed": args.live_speed,
        "live_end_silence_ms": args.end_silence_ms.unwrap_or(LiveOptions::default().end_silence_ms),
        "live_first_partial_ms": args.first_partial_ms.unwrap_or(LiveOptions::default().first_partial_ms),
        "live_partial_window": [partial.floor, partial.margin_ms],
        "live_partial_threads": partial.threads,
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "system_info": system_info.trim(),
        "files": reports,
        "total": totals,
    });
    if json_out {
        crate::outln!("{v}")?;
    } else {
        crate::outln!(
            "total: {:.1} s of audio, RTF {:.3} (decode {:.4}, resample {:.4}, VAD {:.4}, mel {:.4}, encoder {:.3}, decoder {:.3}); threads {}, load {:?} → {:?}",
            totals.audio_s,
            totals.rtf.total,
            totals.rtf.decode,
            totals.rtf.resample,
            totals.rtf.vad,
            totals.rtf.mel,
            totals.rtf.encoder,
            totals.rtf.decoder,
            opts_used.threads,
            load_before,
            load_average()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_file(r: &huashu::audio::bench::FileReport) -> std::io::Result<()> {
    crate::outln!(
        "{}: {:.1} s, {} utterances, RTF {:.3} (encoder {:.3}, decoder {:.3}); {} passes, {} encoder windows, {} tokens",
        r.file,
        r.audio_s,
        r.utterances,
        r.rtf.total,
        r.rtf.encoder,
        r.rtf.decoder,
        r.work.passes,
        r.work.windows,
        r.work.tokens
    )?;
    crate::outln!("  heard: {}", r.text)?;
    if let Some(e) = &r.error_rate {
        crate::outln!(
            "  {:?} error rate {:.3} ({} of {})",
            e.unit,
            e.rate,
            e.errors,
            e.length
        )?;
    }
    if let Some(l) = &r.live {
        crate::outln!(
            "  live: first partial p50 {:.0} ms, first result p50 {:.0} ms, final p50 {:.0} ms (max {:.0}); partials {} cut, {} run",
            l.first_partial_ms.p50,
            l.first_result_ms.p50,
            l.final_ms.p50,
            l.final_ms.max,
            l.partials_cut,
            l.partials_run
        )?;
    }
    Ok(())
}
