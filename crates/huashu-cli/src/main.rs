//! `huashu`: scan turns, score conversations, test rulesets, explain rules. The command-line contract
//! (ARCHITECTURE.md, "Output contract") is stable: other tools depend on it.

#[cfg(feature = "audio")]
mod audio;
mod batch;
mod bench;
mod commands;
mod drill;
mod eval;
mod input;
mod learn;
mod render;
mod report;
mod score;
mod serve;

use std::process::ExitCode;

/// `print!` that returns the write's error instead of panicking: a reader that closes the pipe early
/// (`huashu eval … | head -1`) ends the run quietly (see `main`), never with a panic.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*)
    }};
}
/// `println!` as [`out!`] does `print!`.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}
pub(crate) use {out, outln};

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "huashu",
    version,
    about = "话术 — check and coach customer-service agents"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON object per line (`json` is accepted too: `eval` prints one JSON report, issue 14 names it so).
    #[value(alias = "json")]
    Jsonl,
    Text,
}

#[derive(Subcommand)]
enum Command {
    /// Scan turns (JSON lines {"id","role","text","previous"?}, or plain agent lines) and print findings per line.
    Scan {
        /// A bundled ruleset name (zh-CN) or a ruleset directory.
        #[arg(long, default_value = "zh-CN")]
        ruleset: String,
        /// The other party's previous turn (for an agent turn, the customer's last words), for every line
        /// without a "previous" field of its own: rules with `only_after_turn_has` fire only with one.
        #[arg(long)]
        previous: Option<String>,
        #[arg(long, value_enum, default_value = "jsonl")]
        format: Format,
        /// Input files or directories (JSON lines or CSV); standard input when none, or where `-` is given.
        files: Vec<String>,
        #[command(flatten)]
        batch: batch::BatchArgs,
    },
    /// Score whole conversations (JSON lines {"id","turns":[{"role","text","start_ms"?,"end_ms"?}]}).
    Score {
        #[arg(long, default_value = "zh-CN")]
        ruleset: String,
        #[arg(long, value_enum, default_value = "jsonl")]
        format: Format,
        /// Input files or directories (JSON lines or CSV); standard input when none, or where `-` is given.
        files: Vec<String>,
        #[command(flatten)]
        batch: batch::BatchArgs,
        /// The files are call recordings (or directories of them): transcribe, then score each as one call.
        #[cfg(feature = "audio")]
        #[arg(long)]
        audio: bool,
        #[cfg(feature = "audio")]
        #[command(flatten)]
        asr: audio::AsrArgs,
    },
    /// Transcribe call recordings (files or directories) into JSON lines of timed turns.
    #[cfg(feature = "audio")]
    Transcribe(audio::TranscribeArgs),
    /// Write one self-contained HTML page (charts, worst conversations) from `huashu score` results.
    Report(report::ReportArgs),
    /// Test a ruleset: validate it, run every rule's examples and lint its regex literals; exits non-zero on
    /// any problem. (`huashu check` is the older name, still accepted.)
    #[command(alias = "check")]
    TestRuleset {
        /// A bundled ruleset name or a directory.
        #[arg(default_value = "zh-CN")]
        ruleset: String,
    },
    /// Measure a ruleset on labelled turns: precision, recall and F1 per category and rule, every
    /// disagreement with its span; exit 1 below --min-precision/--min-recall.
    Eval(eval::EvalArgs),
    /// Train a ruleset directory's learned models (`learned/*.tsv`) on labelled turns.
    Learn(learn::LearnArgs),
    /// Show what a rule looks for, why, and its examples.
    Explain {
        rule: String,
        #[arg(long, default_value = "zh-CN")]
        ruleset: String,
    },
    /// Print the JSON Schema of rule files (`rule`) or of ruleset.toml (`ruleset`).
    Schema {
        #[arg(value_parser = ["rule", "ruleset"], default_value = "rule")]
        what: String,
    },
    /// Role-play practice: answer a scripted customer, get feedback per reply and coaching tips; lists drills
    /// without NAME. Exit code 1 when the drill is failed.
    Drill(drill::DrillArgs),
    /// Run the sidecar daemon (WebSocket/REST/SSE live agent assist, console at /).
    Serve(serve::ServeArgs),
    /// Drive many concurrent WebSocket sessions against a running daemon (loopback only).
    Loadtest(serve::LoadArgs),
    /// A long mixed load against a running daemon (loopback only): normal clients, slow readers, churn, bad
    /// frames and ruleset reloads; checks that nothing is lost, /readyz stays true and memory stays flat.
    Soak(serve::SoakArgs),
    /// Measure this ruleset's speed on this machine next to a raw aho-corasick scan of the same phrases.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan {
            ruleset,
            previous,
            format,
            files,
            batch,
        } => commands::scan(&ruleset, previous, format, &files, &batch),
        Command::Score {
            ruleset,
            format,
            files,
            batch,
            #[cfg(feature = "audio")]
            audio,
            #[cfg(feature = "audio")]
            asr,
        } => match () {
            #[cfg(feature = "audio")]
            () if audio => audio::score(&ruleset, format, &files, &asr),
            () => commands::score(&ruleset, format, &files, &batch),
        },
        #[cfg(feature = "audio")]
        Command::Transcribe(args) => audio::transcribe(&args),
        Command::Report(args) => report::run(&args),
        Command::TestRuleset { ruleset } => commands::test_ruleset(&ruleset),
        Command::Explain { rule, ruleset } => commands::explain(&ruleset, &rule),
        Command::Schema { what } => commands::schema(&what),
        Command::Drill(args) => drill::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Learn(args) => learn::run(&args),
        Command::Serve(args) => serve::serve(args),
        Command::Loadtest(args) => serve::loadtest(args),
        Command::Soak(args) => serve::soak(args),
        Command::Bench(args) => bench::run(&args),
    };
    match result {
        Ok(code) => code,
        // The reader went away (`| head`): what it wanted it has; as grep or cat would, stop without a word.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("huashu: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
