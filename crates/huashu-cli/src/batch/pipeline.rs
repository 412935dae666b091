//! The one batch pipeline shared by `scan` and `score`: a chunked reader (sources in order, chunks of 2,048
//! items / 32 MiB) → a parallel map on a rayon pool (parse on the worker when the reader could not, then the
//! item kind's output) → an ordered writer. An item kind (`Kind`) says how to parse a line, read a CSV file and
//! write one result; everything else (sources, chunking, order, errors in place, progress, exit code) is here.

use std::io::{self, BufRead, BufWriter, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use serde_json::Value;

use super::args::{BatchArgs, Out, out_format};
use super::source::{Item, Source, is_csv, open_or_report, read_lines, sources, total_bytes};
use crate::Format;
use crate::input::RawLine;
use crate::render::ErrorOut;

/// What `scan` and `score` differ in.
pub(super) trait Kind: Sync {
    /// One parsed input (a turn, a conversation).
    type Parsed: Send + Sync;
    /// The CSV output header (its column count is also the width of an error row).
    const CSV_HEADER: &'static str;
    /// The longest JSON line read.
    const MAX_LINE: usize;
    /// Parses a JSON line on a worker; `None` skips it without output.
    fn parse_line(&self, raw: &RawLine) -> Option<Result<Self::Parsed, String>>;
    /// Reads a CSV source, pushing its items in order; `Ok(Some(why))` skips the file (reported on stderr,
    /// exit code 2).
    fn read_csv(
        &self,
        src: &Source,
        reader: Box<dyn BufRead>,
        args: &BatchArgs,
        push: impl FnMut(Item<Input<Self::Parsed>>, usize) -> Result<()>,
    ) -> Result<Option<String>>;
    /// Writes the result for one parsed input.
    fn write(
        &self,
        fmt: Out,
        file: Option<&str>,
        line: usize,
        parsed: &Self::Parsed,
        out: &mut Vec<u8>,
    ) -> Result<()>;
}

/// An item's input: a raw JSON line (parsed on a worker) or what the CSV reader parsed.
pub(super) enum Input<P> {
    Line(RawLine),
    Parsed(Result<P, String>),
}

/// Chunks of items processed in parallel and written in order.
pub(super) struct Pipeline<'a, I, F> {
    buf: Vec<Item<I>>,
    bytes: usize,
    out: &'a mut dyn Write,
    work: F,
    pool: &'a rayon::ThreadPool,
    bar: &'a ProgressBar,
}

pub(super) const CHUNK_ITEMS: usize = 2048;
pub(super) const CHUNK_BYTES: usize = 32 << 20;

impl<I: Send + Sync, F: Fn(&Item<I>) -> Result<Vec<u8>> + Sync> Pipeline<'_, I, F> {
    fn push(&mut self, item: Item<I>, bytes: usize) -> Result<()> {
        self.buf.push(item);
        self.bytes += bytes;
        if self.buf.len() >= CHUNK_ITEMS || self.bytes >= CHUNK_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        let work = &self.work;
        let buf = &self.buf;
        let outs: Vec<Result<Vec<u8>>> = self.pool.install(|| buf.par_iter().map(work).collect());
        for o in outs {
            self.out.write_all(&o?)?;
        }
        self.bar.inc(self.bytes as u64);
        self.buf.clear();
        self.bytes = 0;
        Ok(())
    }
}

pub(super) fn progress_bar(total: u64, args: &BatchArgs) -> ProgressBar {
    if args.no_progress || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{bar:40} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style);
    }
    bar
}

pub(super) fn pool(args: &BatchArgs) -> Result<rayon::ThreadPool> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(n) = args.jobs {
        anyhow::ensure!(n > 0, "--jobs must be at least 1");
        b = b.num_threads(n);
    }
    b.build().context("cannot start worker threads")
}

/// Runs a batch of one kind over `files` (stdin when empty), writing to stdout.
pub(super) fn run<K: Kind>(
    kind: &K,
    format: Format,
    files: &[String],
    args: &BatchArgs,
) -> Result<ExitCode> {
    let fmt = out_format(format, args);
    let mut failed = 0;
    let srcs = sources(files, &mut failed);
    let bar = progress_bar(total_bytes(&srcs), args);
    let pool = pool(args)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if fmt == Out::Csv {
        out.write_all(K::CSV_HEADER.as_bytes())?;
    }
    let columns = K::CSV_HEADER.trim_end().split(',').count();
    let work = |item: &Item<Input<K::Parsed>>| -> Result<Vec<u8>> {
        let from_line;
        let parsed = match &item.input {
            Input::Line(raw) => match kind.parse_line(raw) {
                None => return Ok(Vec::new()),
                Some(p) => {
                    from_line = p;
                    from_line.as_ref()
                }
            },
            Input::Parsed(p) => p.as_ref(),
        };
        let mut buf = Vec::new();
        let file = item.file.as_deref();
        match parsed {
            Ok(p) => kind.write(fmt, file, item.line, p, &mut buf)?,
            Err(e) => error_out(&mut buf, fmt, file, item.line, e, columns)?,
        }
        Ok(buf)
    };
    let mut pipe = Pipeline {
        buf: Vec::new(),
        bytes: 0,
        out: &mut out,
        work,
        pool: &pool,
        bar: &bar,
    };
    for src in &srcs {
        let Some(reader) = open_or_report(src, &mut failed) else {
            continue;
        };
        if is_csv(src.path.as_deref(), args) {
            if let Some(why) = kind.read_csv(src, reader, args, |i, b| pipe.push(i, b))? {
                eprintln!(
                    "huashu: {}: {why}; skipped",
                    src.label.as_deref().unwrap_or("<stdin>")
                );
                failed += 1;
            }
        } else {
            read_lines(src, reader, K::MAX_LINE, Input::Line, |i, b| {
                pipe.push(i, b)
            })?;
        }
    }
    pipe.flush()?;
    drop(pipe);
    bar.finish_and_clear();
    out.flush()?;
    Ok(if failed > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

pub(super) fn id_string(id: &Value) -> String {
    match id {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(super) fn csv_row(fields: &[&str]) -> Result<Vec<u8>> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    w.write_record(fields)?;
    w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

pub(super) fn error_out(
    out: &mut Vec<u8>,
    fmt: Out,
    file: Option<&str>,
    n: usize,
    error: &str,
    columns: usize,
) -> Result<()> {
    match fmt {
        Out::Jsonl => {
            let line = ErrorOut {
                id: Value::Null,
                line: n,
                file,
                error,
            };
            serde_json::to_writer(&mut *out, &line)?;
            out.push(b'\n');
        }
        Out::Text => {
            writeln!(out, "{}:{n}: error: {error}", file.unwrap_or("<stdin>"))?;
        }
        Out::Csv => {
            let line = n.to_string();
            let mut row = vec![file.unwrap_or(""), line.as_str()];
            row.resize(columns - 1, "");
            row.push(error);
            out.extend(csv_row(&row)?);
        }
    }
    Ok(())
}
