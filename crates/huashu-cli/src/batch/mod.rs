//! Batch `scan` and `score`: many files or directories, JSON lines or CSV in, JSON lines, CSV or text out,
//! on all cores. Inputs are read in order into chunks; each chunk is processed in parallel (rayon) and written
//! in input order, so the output is the same whatever the number of threads. A bad line becomes an error
//! record; a file that cannot be read is reported on stderr and skipped (exit code 2 at the end).
//!
//! One pipeline (`pipeline.rs`: sources → chunks → parallel map → ordered writer) runs both commands; each is
//! an item kind: `scan.rs` (a turn) and `score.rs` (a conversation). Inputs: `source.rs` (files, directories,
//! stdin, JSON lines), `csv_in.rs` (CSV columns and fields).

mod args;
mod csv_in;
mod pipeline;
mod scan;
mod score;
mod source;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;
use huashu::Engine;

use crate::Format;
pub use args::BatchArgs;

/// `huashu scan` over files, directories or stdin, with `engine` (the ruleset with `--disable` applied).
pub fn scan(
    engine: Engine,
    previous: Option<String>,
    format: Format,
    files: &[String],
    args: &BatchArgs,
) -> Result<ExitCode> {
    pipeline::run(&scan::Scan { engine, previous }, format, files, args)
}

/// `huashu score` over files, directories or stdin, with `engine` (the ruleset with `--disable` applied).
pub fn score(
    engine: Engine,
    format: Format,
    files: &[String],
    args: &BatchArgs,
) -> Result<ExitCode> {
    let engine = Arc::new(engine);
    pipeline::run(&score::Score { engine }, format, files, args)
}
