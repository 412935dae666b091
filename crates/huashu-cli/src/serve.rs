//! `huashu serve` and `huashu loadtest`: thin wrappers over the `huashu-sidecar` and `huashu-tools` crates.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use huashu_sidecar::Config;
use huashu_tools::loadtest::{LoadOptions, run_blocking};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Config file (TOML); every setting has a default.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Address to listen on (overrides the config).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// A bundled ruleset name or a ruleset directory, watched for changes (overrides the config).
    #[arg(long)]
    ruleset: Option<String>,
    /// A ggml Whisper model for live audio on /v1/stream (default: $HUASHU_WHISPER_MODEL; needs the `audio`
    /// build feature).
    #[arg(long, value_name = "PATH")]
    model: Option<PathBuf>,
    /// Whisper threads per recognition (1 on a busy machine).
    #[arg(long)]
    whisper_threads: Option<usize>,
}

pub fn serve(args: ServeArgs) -> Result<ExitCode> {
    let mut config = match &args.config {
        Some(p) => Config::from_file(p)?,
        None => Config::default(),
    };
    if let Some(l) = args.listen {
        config.listen = l;
    }
    if let Some(r) = args.ruleset {
        config.ruleset = r;
    }
    if let Some(m) = args.model {
        config.audio.model = Some(m);
    }
    if let Some(t) = args.whisper_threads {
        config.audio.threads = t;
    }
    let config = config.finish()?;
    huashu_sidecar::run(config).context("huashu serve")?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The daemon's address (loopback only).
    #[arg(long, default_value = "127.0.0.1:8787")]
    addr: SocketAddr,
    /// Concurrent WebSocket sessions.
    #[arg(long, default_value_t = 1000)]
    sessions: usize,
    /// Final utterances per session (each preceded by a partial).
    #[arg(long, default_value_t = 20)]
    utterances: usize,
    /// Pause after each answered utterance, in ms (0: as fast as the server answers).
    #[arg(long, default_value_t = 200)]
    interval_ms: u64,
    /// Bearer token (default: $HUASHU_TOKENS' first).
    #[arg(long)]
    token: Option<String>,
    /// Stop everything after this many seconds.
    #[arg(long, default_value_t = 120)]
    deadline_s: u64,
}

pub fn loadtest(args: LoadArgs) -> Result<ExitCode> {
    let token = args.token.or_else(|| {
        std::env::var(huashu_sidecar::config::TOKENS_ENV)
            .ok()
            .and_then(|v| v.split(',').next().map(|s| s.trim().to_string()))
            .filter(|s| !s.is_empty())
    });
    let report = run_blocking(LoadOptions {
        addr: args.addr,
        sessions: args.sessions,
        utterances: args.utterances,
        interval: Duration::from_millis(args.interval_ms),
        token,
        deadline: Duration::from_secs(args.deadline_s),
        ..LoadOptions::default()
    })?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    let ok = report.sessions_complete == report.sessions && report.errors == 0;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
