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
    /// A ggml Whisper model file (default: $HUASHU_WHISPER_MODEL, else the model scripts/fetch-model caches).
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
    /// Fit the encoder window to each utterance instead of Whisper's full 30 s: several times faster on
    /// short utterances, but less accurate (notably on Mandarin).
    #[arg(long)]
    fast: bool,
    /// Pinyin-level matching of transcribed turns: off, opt-in (rules with `asr_tolerant = true`) or all.
    #[arg(long, default_value = "opt-in", value_parser = parse_tolerance)]
    asr_tolerance: Tolerance,
    /// Role of a mono recording.
    #[arg(long, default_value = "agent")]
    mono: String,
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
        options.fit_audio_ctx = self.fast;
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
    let engine = Arc::new(crate::commands::load_engine(ruleset, &[])?);
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
