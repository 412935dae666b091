//! `huashu serve`, `huashu loadtest` and `huashu soak`: thin wrappers over the `huashu-sidecar` and `huashu-tools` crates.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use huashu_sidecar::Config;
use huashu_tools::loadtest::{Arrivals, LoadOptions, Via, run_blocking};
use huashu_tools::soak::{self, SoakOptions};

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
    /// Run the ruleset's learned models after the rules (docs/learned.md; off by default for live assist).
    #[arg(long)]
    learned: bool,
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
    if args.learned {
        config.learned = true;
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
    /// How sessions reach the daemon: `ws` (`/v1/stream`, a partial and a final per utterance),
    /// `chatwoot` (text messages through the Chatwoot webhook; the daemon needs
    /// `[integrations.chatwoot] enabled = true` and no secret), `freeswitch` or `twilio` (synthesised
    /// two-party calls in real time through that adapter, one line per utterance).
    #[arg(long, default_value = "ws", value_parser = ["ws", "chatwoot", "freeswitch", "twilio"])]
    via: String,
    /// Every session sends at the same instant (the worst case: the latency is mostly that burst's queue);
    /// by default session i starts interval × i ÷ sessions later, so arrivals spread over each interval.
    #[arg(long)]
    burst: bool,
}

/// The token given, else `$HUASHU_TOKENS`' first.
fn token_or_env(token: Option<String>) -> Option<String> {
    token.or_else(|| {
        std::env::var(huashu_sidecar::config::TOKENS_ENV)
            .ok()
            .and_then(|v| v.split(',').next().map(|s| s.trim().to_string()))
            .filter(|s| !s.is_empty())
    })
}

pub fn loadtest(args: LoadArgs) -> Result<ExitCode> {
    let token = token_or_env(args.token);
    let report = run_blocking(LoadOptions {
        addr: args.addr,
        sessions: args.sessions,
        utterances: args.utterances,
        interval: Duration::from_millis(args.interval_ms),
        token,
        deadline: Duration::from_secs(args.deadline_s),
        via: match args.via.as_str() {
            "chatwoot" => Via::Chatwoot,
            "freeswitch" => Via::FreeSwitch,
            "twilio" => Via::Twilio,
            _ => Via::WebSocket,
        },
        arrivals: if args.burst {
            Arrivals::Burst
        } else {
            Arrivals::Spread
        },
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

#[derive(Debug, Args)]
pub struct SoakArgs {
    /// The daemon's address (loopback only).
    #[arg(long, default_value = "127.0.0.1:8787")]
    addr: SocketAddr,
    /// Clients at once, each running sessions back to back (70 % normal, 10 % each slow readers, churn,
    /// bad frames).
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// How long clients start new sessions, in seconds.
    #[arg(long, default_value_t = 600)]
    duration_s: u64,
    /// Final utterances per session.
    #[arg(long, default_value_t = 16)]
    utterances: usize,
    /// A normal client's pause between turns, in ms.
    #[arg(long, default_value_t = 1000)]
    interval_ms: u64,
    /// The daemon's ruleset directory, reloaded every --reload-every-s (an edit, then a directory swap).
    #[arg(long)]
    ruleset_dir: Option<PathBuf>,
    #[arg(long, default_value_t = 60)]
    reload_every_s: u64,
    /// Seconds of warm-up before RSS must stay flat (default: 60, or a third of a shorter run).
    #[arg(long)]
    warmup_s: Option<u64>,
    /// The warm-up also lasts until this many reloads have been served.
    #[arg(long, default_value_t = 0)]
    warmup_reloads: usize,
    /// RSS sampling period in seconds.
    #[arg(long, default_value_t = 10)]
    rss_every_s: u64,
    /// Flat: no RSS sample after the warm-up more than this fraction above the first one after it.
    #[arg(long, default_value_t = 0.10)]
    rss_growth_limit: f64,
    /// Bearer token (default: $HUASHU_TOKENS' first).
    #[arg(long)]
    token: Option<String>,
}

pub fn soak(args: SoakArgs) -> Result<ExitCode> {
    let duration = Duration::from_secs(args.duration_s);
    let report = soak::run_blocking(SoakOptions {
        addr: args.addr,
        clients: args.clients,
        duration,
        utterances: args.utterances,
        interval: Duration::from_millis(args.interval_ms),
        token: token_or_env(args.token),
        ruleset_dir: args.ruleset_dir,
        reload_every: Duration::from_secs(args.reload_every_s),
        rss_every: Duration::from_secs(args.rss_every_s),
        warmup: args.warmup_s.map_or(
            (duration / 3).min(Duration::from_secs(60)),
            Duration::from_secs,
        ),
        warmup_reloads: args.warmup_reloads,
        rss_growth_limit: args.rss_growth_limit,
        ..SoakOptions::default()
    })?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
