//! Batch `scan` and `score`: many files or directories, JSON lines or CSV in, JSON lines, CSV or text out,
//! on all cores. Inputs are read in order into chunks; each chunk is processed in parallel (rayon) and written
//! in input order, so the output is the same whatever the number of threads. A bad line becomes an error
//! record; a file that cannot be read is reported on stderr and skipped (exit code 2 at the end).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use huashu::{Engine, Role, Turn};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use serde_json::Value;

use crate::Format;
use crate::input::{Lines, MAX_LINE_BYTES, RawLine, Record, parse_turn};
use crate::render::{ErrorOut, ScanOut, text_report};
use crate::score::{MAX_CONVERSATION_BYTES, parse_conversation, score_out};

/// Options shared by `scan` and `score` for batch work.
#[derive(Debug, Clone, Args)]
pub struct BatchArgs {
    /// Output format for data tools: JSON lines (the default) or CSV. Overrides `--format`.
    #[arg(long, value_enum)]
    pub output_format: Option<OutputFormat>,
    /// Input format; `auto` takes `.csv` files as CSV and everything else as JSON lines.
    #[arg(long, value_enum, default_value = "auto")]
    pub input_format: InputFormat,
    /// CSV column with the conversation (score) or turn (scan) id; score groups rows by it.
    #[arg(long, default_value = "id")]
    pub id_column: String,
    /// CSV column with the speaker (agent/customer/system; 客服/客户); agent when absent.
    #[arg(long, default_value = "role")]
    pub role_column: String,
    /// CSV column with the text of the turn.
    #[arg(long, default_value = "text")]
    pub text_column: String,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// Never show the progress bar (it is shown only when stderr is a terminal).
    #[arg(long)]
    pub no_progress: bool,
    /// Rule ids to switch off for this run (comma-separated), without editing the ruleset.
    #[arg(long, value_delimiter = ',')]
    pub disable: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Jsonl,
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    Auto,
    Jsonl,
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Out {
    Jsonl,
    Text,
    Csv,
}

fn out_format(format: Format, args: &BatchArgs) -> Out {
    match (args.output_format, format) {
        (Some(OutputFormat::Csv), _) => Out::Csv,
        (Some(OutputFormat::Jsonl), _) | (None, Format::Jsonl) => Out::Jsonl,
        (None, Format::Text) => Out::Text,
    }
}

/// File extensions taken from a directory.
const EXTENSIONS: &[&str] = &["jsonl", "ndjson", "json", "csv", "txt"];

/// Files to read, in order: each argument, directories walked recursively in name order.
fn expand(args: &[String], failed: &mut usize) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>, failed: &mut usize) {
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => {
                eprintln!("huashu: cannot read directory {}: {e}", dir.display());
                *failed += 1;
                return;
            }
        };
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out, failed);
            } else if p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
            {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    for a in args {
        let p = PathBuf::from(a);
        if p.is_dir() {
            walk(&p, &mut out, failed);
        } else {
            out.push(p);
        }
    }
    out
}

fn is_csv(path: Option<&Path>, args: &BatchArgs) -> bool {
    match args.input_format {
        InputFormat::Csv => true,
        InputFormat::Jsonl => false,
        InputFormat::Auto => path
            .and_then(|p| p.extension())
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("csv")),
    }
}

/// One unit of work: where it came from and its input, parsed later on a worker or already parsed.
struct Item<I> {
    file: Option<Arc<str>>,
    line: usize,
    input: I,
}

/// Chunks of items processed in parallel and written in order.
struct Pipeline<'a, I, F> {
    buf: Vec<Item<I>>,
    bytes: usize,
    out: &'a mut dyn Write,
    work: F,
    pool: &'a rayon::ThreadPool,
    bar: &'a ProgressBar,
}

const CHUNK_ITEMS: usize = 2048;
const CHUNK_BYTES: usize = 32 << 20;

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

fn progress_bar(total: u64, args: &BatchArgs) -> ProgressBar {
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

fn pool(args: &BatchArgs) -> Result<rayon::ThreadPool> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(n) = args.jobs {
        anyhow::ensure!(n > 0, "--jobs must be at least 1");
        b = b.num_threads(n);
    }
    b.build().context("cannot start worker threads")
}

/// A source of input: a file or standard input.
struct Source {
    path: Option<PathBuf>,
    label: Option<Arc<str>>,
}

fn sources(files: &[String], failed: &mut usize) -> Vec<Source> {
    if files.is_empty() {
        return vec![Source {
            path: None,
            label: None,
        }];
    }
    expand(files, failed)
        .into_iter()
        .map(|p| Source {
            label: Some(Arc::from(p.to_string_lossy().as_ref())),
            path: Some(p),
        })
        .collect()
}

fn open(src: &Source) -> io::Result<Box<dyn BufRead>> {
    match &src.path {
        None => Ok(Box::new(BufReader::new(io::stdin()))),
        Some(p) => Ok(Box::new(BufReader::with_capacity(1 << 16, File::open(p)?))),
    }
}

/// Opens a source, or reports it on stderr and counts it as failed: one unreadable file never stops a batch.
fn open_or_report(src: &Source, failed: &mut usize) -> Option<Box<dyn BufRead>> {
    match open(src) {
        Ok(r) => Some(r),
        Err(e) => {
            eprintln!(
                "huashu: cannot read {}: {e}",
                src.label.as_deref().unwrap_or("<stdin>")
            );
            *failed += 1;
            None
        }
    }
}

fn total_bytes(srcs: &[Source]) -> u64 {
    srcs.iter()
        .filter_map(|s| s.path.as_ref())
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// Reads JSON lines, pushing each (raw) line; returns false when the file had a read error.
fn read_lines<I>(
    src: &Source,
    reader: Box<dyn BufRead>,
    max: usize,
    wrap: impl Fn(RawLine) -> I,
    mut push: impl FnMut(Item<I>, usize) -> Result<()>,
) -> Result<()> {
    let mut lines = Lines::new(reader, max);
    let mut n = 0;
    loop {
        let raw = match lines.next_line() {
            Ok(Some(raw)) => raw,
            Ok(None) => break,
            Err(e) => {
                eprintln!(
                    "huashu: {}: read error after line {n}: {e}",
                    src.label.as_deref().unwrap_or("<stdin>")
                );
                break;
            }
        };
        n += 1;
        let bytes = match &raw {
            RawLine::Bytes(b) => b.len() + 1,
            RawLine::TooLong(k) => *k,
        };
        push(
            Item {
                file: src.label.clone(),
                line: n,
                input: wrap(raw),
            },
            bytes,
        )?;
    }
    Ok(())
}

/// CSV columns found in a header.
struct Columns {
    id: Option<usize>,
    role: Option<usize>,
    text: usize,
    agent: Option<usize>,
    start_ms: Option<usize>,
    end_ms: Option<usize>,
}

fn csv_reader(reader: Box<dyn BufRead>) -> csv::Reader<Box<dyn BufRead>> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(reader)
}

fn csv_columns(
    rdr: &mut csv::Reader<Box<dyn BufRead>>,
    args: &BatchArgs,
) -> Result<Columns, String> {
    let headers = rdr
        .headers()
        .map_err(|e| format!("cannot read the CSV header: {e}"))?;
    let find = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().trim_start_matches('\u{FEFF}') == name)
    };
    let text = find(&args.text_column).ok_or_else(|| {
        format!(
            "the CSV header has no {:?} column (columns: {})",
            args.text_column,
            headers.iter().collect::<Vec<_>>().join(", ")
        )
    })?;
    Ok(Columns {
        id: find(&args.id_column),
        role: find(&args.role_column),
        text,
        agent: find("agent"),
        start_ms: find("start_ms"),
        end_ms: find("end_ms"),
    })
}

fn csv_role(rec: &csv::StringRecord, cols: &Columns) -> Result<Role, String> {
    match cols.role.and_then(|i| rec.get(i)).map(str::trim) {
        None | Some("") => Ok(Role::Agent),
        Some(s) => Role::parse(s).ok_or_else(|| {
            format!("unknown role {s:?} (expected \"agent\", \"customer\" or \"system\")")
        }),
    }
}

fn csv_field(rec: &csv::StringRecord, i: Option<usize>) -> Option<&str> {
    i.and_then(|i| rec.get(i)).filter(|s| !s.is_empty())
}

fn csv_ms(rec: &csv::StringRecord, i: Option<usize>, name: &str) -> Result<Option<u64>, String> {
    match csv_field(rec, i).map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse::<f64>()
            .ok()
            .filter(|f| *f >= 0.0 && f.is_finite())
            .map(|f| Some(f as u64))
            .ok_or_else(|| format!("{name} {s:?} is not a non-negative number of milliseconds")),
    }
}

fn line_of(rec: &csv::StringRecord) -> usize {
    rec.position().map_or(0, |p| p.line() as usize)
}

// ---------------------------------------------------------------------------------------------- scan

enum ScanIn {
    Line(RawLine),
    Parsed(Result<Record, String>),
}

pub fn scan(ruleset: &str, format: Format, files: &[String], args: &BatchArgs) -> Result<ExitCode> {
    let engine = crate::commands::load_engine(ruleset, &args.disable)?;
    let out_fmt = out_format(format, args);
    let mut failed = 0;
    let srcs = sources(files, &mut failed);
    let bar = progress_bar(total_bytes(&srcs), args);
    let pool = pool(args)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if out_fmt == Out::Csv {
        out.write_all(SCAN_CSV_HEADER.as_bytes())?;
    }
    let work = |item: &Item<ScanIn>| -> Result<Vec<u8>> {
        let parsed = match &item.input {
            ScanIn::Line(RawLine::Bytes(b)) => parse_turn(RawLine::Bytes(b.clone())),
            ScanIn::Line(RawLine::TooLong(n)) => parse_turn(RawLine::TooLong(*n)),
            ScanIn::Parsed(Ok(r)) => Ok(Record {
                id: r.id.clone(),
                role: r.role,
                text: r.text.clone(),
            }),
            ScanIn::Parsed(Err(e)) => Err(e.clone()),
        };
        scan_one(&engine, out_fmt, item, parsed)
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
            let mut rdr = csv_reader(reader);
            let cols = match csv_columns(&mut rdr, args) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!(
                        "huashu: {}: {e}; skipped",
                        src.label.as_deref().unwrap_or("<stdin>")
                    );
                    failed += 1;
                    continue;
                }
            };
            let mut rec = csv::StringRecord::new();
            loop {
                let (parsed, line, bytes) = match rdr.read_record(&mut rec) {
                    Ok(false) => break,
                    Ok(true) => {
                        let parsed = match (csv_role(&rec, &cols), rec.get(cols.text)) {
                            (Err(e), _) => Err(e),
                            (Ok(_), None) => Err(format!("no {:?} field", args.text_column)),
                            (Ok(role), Some(text)) => Ok(Record {
                                id: csv_field(&rec, cols.id)
                                    .map_or(Value::Null, |s| Value::String(s.to_string())),
                                role,
                                text: text.to_string(),
                            }),
                        };
                        (parsed, line_of(&rec), rec.as_slice().len() + 2)
                    }
                    Err(e) => {
                        let line = e.position().map_or(0, |p| p.line() as usize);
                        if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                            eprintln!(
                                "huashu: {}: read error at line {line}: {e}",
                                src.label.as_deref().unwrap_or("<stdin>")
                            );
                            break;
                        }
                        (Err(format!("invalid CSV: {e}")), line, 1)
                    }
                };
                pipe.push(
                    Item {
                        file: src.label.clone(),
                        line,
                        input: ScanIn::Parsed(parsed),
                    },
                    bytes,
                )?;
            }
        } else {
            read_lines(src, reader, MAX_LINE_BYTES, ScanIn::Line, |i, b| {
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

const SCAN_CSV_HEADER: &str =
    "file,line,id,role,rule,category,severity,start,end,matched,message,suggestion,rewrite,error\n";

fn id_string(id: &Value) -> String {
    match id {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn csv_row(fields: &[&str]) -> Result<Vec<u8>> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    w.write_record(fields)?;
    w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

fn scan_one(
    engine: &Engine,
    fmt: Out,
    item: &Item<ScanIn>,
    parsed: Result<Record, String>,
) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let file = item.file.as_deref();
    let n = item.line;
    match parsed {
        Ok(rec) => {
            let findings = engine.check(rec.role, &rec.text);
            let rewrite = engine.compliant_rewrite(rec.role, &rec.text, &findings);
            let previews = engine.previews(rec.role, &rec.text);
            match fmt {
                Out::Jsonl => {
                    let line = ScanOut::new(&rec.id, &findings, &rewrite, &previews);
                    serde_json::to_writer(&mut out, &line)?;
                    out.push(b'\n');
                }
                Out::Text => {
                    let label = match (&rec.id, file) {
                        (Value::Null, Some(f)) => format!("{f}:{n}"),
                        (Value::Null, None) => format!("{n}"),
                        (id, _) => format!("{n} [{}]", id_string(id)),
                    };
                    out.extend_from_slice(
                        text_report(&label, &rec.text, &findings, &rewrite).as_bytes(),
                    );
                }
                Out::Csv => {
                    // A withheld rewrite is an empty cell: there is none to offer.
                    let rewrite_cell = rewrite.as_deref().unwrap_or("");
                    let (line, id) = (n.to_string(), id_string(&rec.id));
                    let base = [file.unwrap_or(""), &line, &id, rec.role.as_str()];
                    if findings.is_empty() {
                        let mut row = base.to_vec();
                        row.extend(["", "", "", "", "", "", "", "", rewrite_cell, ""]);
                        out.extend(csv_row(&row)?);
                    }
                    for f in &findings {
                        let (s, e) = (f.char_start.to_string(), f.char_end.to_string());
                        let sugg = f.suggestions.first().map_or("", |s| &*s.replacement);
                        let mut row = base.to_vec();
                        row.extend([
                            &*f.rule_id,
                            f.category.as_str(),
                            f.severity.as_str(),
                            &s,
                            &e,
                            &f.matched,
                            &f.message,
                            sugg,
                            rewrite_cell,
                            "",
                        ]);
                        out.extend(csv_row(&row)?);
                    }
                }
            }
        }
        Err(error) => error_out(&mut out, fmt, file, n, &error, 14)?,
    }
    Ok(out)
}

fn error_out(
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

// --------------------------------------------------------------------------------------------- score

/// A conversation to score, as parsed.
pub struct Conversation {
    pub id: Value,
    pub agent: Option<Value>,
    /// `date` or `started_at` of the input, carried to the output as `date` (the report groups by month).
    pub date: Option<Value>,
    pub turns: Vec<Turn>,
}

enum ScoreIn {
    Line(RawLine),
    Parsed(Result<Conversation, String>),
}

const SCORE_CSV_HEADER: &str = "file,line,id,agent,score,passed,fatal,fatal_reason,structure_score,complaints,empathy,solution,commitment,in_order,turns,findings_total,rules,failed_checks,error\n";

pub fn score(
    ruleset: &str,
    format: Format,
    files: &[String],
    args: &BatchArgs,
) -> Result<ExitCode> {
    let engine = Arc::new(crate::commands::load_engine(ruleset, &args.disable)?);
    let out_fmt = out_format(format, args);
    let mut failed = 0;
    let srcs = sources(files, &mut failed);
    let bar = progress_bar(total_bytes(&srcs), args);
    let pool = pool(args)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if out_fmt == Out::Csv {
        out.write_all(SCORE_CSV_HEADER.as_bytes())?;
    }
    let work = |item: &Item<ScoreIn>| -> Result<Vec<u8>> {
        let parsed;
        let conv = match &item.input {
            ScoreIn::Line(RawLine::Bytes(b)) => {
                if b.iter().all(u8::is_ascii_whitespace) {
                    return Ok(Vec::new());
                }
                parsed = parse_conversation(RawLine::Bytes(b.clone()));
                parsed.as_ref()
            }
            ScoreIn::Line(RawLine::TooLong(n)) => {
                parsed = parse_conversation(RawLine::TooLong(*n));
                parsed.as_ref()
            }
            ScoreIn::Parsed(p) => p.as_ref(),
        };
        score_one(&engine, out_fmt, item, conv)
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
            match csv_conversations(src, reader, args) {
                Ok(convs) => {
                    let n = convs.len().max(1);
                    let size = src
                        .path
                        .as_ref()
                        .and_then(|p| std::fs::metadata(p).ok())
                        .map_or(0, |m| m.len() as usize);
                    for (line, conv) in convs {
                        pipe.push(
                            Item {
                                file: src.label.clone(),
                                line,
                                input: ScoreIn::Parsed(conv),
                            },
                            size / n,
                        )?;
                    }
                }
                Err(e) => {
                    eprintln!(
                        "huashu: {}: {e}; skipped",
                        src.label.as_deref().unwrap_or("<stdin>")
                    );
                    failed += 1;
                }
            }
        } else {
            read_lines(
                src,
                reader,
                MAX_CONVERSATION_BYTES,
                ScoreIn::Line,
                |i, b| pipe.push(i, b),
            )?;
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

type CsvConversations = Vec<(usize, Result<Conversation, String>)>;

/// Rows are turns; rows with the same id are one conversation (in the order of its first row; turns in row
/// order). Without an id column the whole file is one conversation named after the file.
fn csv_conversations(
    src: &Source,
    reader: Box<dyn BufRead>,
    args: &BatchArgs,
) -> Result<CsvConversations, String> {
    let mut rdr = csv_reader(reader);
    let cols = csv_columns(&mut rdr, args)?;
    let mut order: Vec<(usize, Result<Conversation, String>)> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let default_id = src
        .path
        .as_ref()
        .and_then(|p| p.file_stem())
        .map_or_else(|| "stdin".to_string(), |s| s.to_string_lossy().into_owned());
    let mut rec = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    return Err(format!("read error at line {line}: {e}"));
                }
                order.push((line, Err(format!("invalid CSV: {e}"))));
                continue;
            }
        }
        let line = line_of(&rec);
        let id = match cols.id {
            Some(i) => rec.get(i).unwrap_or("").to_string(),
            None => default_id.clone(),
        };
        let at = *by_id.entry(id.clone()).or_insert_with(|| {
            order.push((
                line,
                Ok(Conversation {
                    id: Value::String(id.clone()),
                    agent: None,
                    date: None,
                    turns: Vec::new(),
                }),
            ));
            order.len() - 1
        });
        let Some((_, Ok(conv))) = order.get_mut(at) else {
            continue; // this conversation already has an error
        };
        let turn = (|| -> Result<Turn, String> {
            let role = csv_role(&rec, &cols)?;
            let text = rec
                .get(cols.text)
                .ok_or_else(|| format!("no {:?} field", args.text_column))?;
            let start_ms = csv_ms(&rec, cols.start_ms, "start_ms")?;
            let end_ms = csv_ms(&rec, cols.end_ms, "end_ms")?;
            if let (Some(s), Some(e)) = (start_ms, end_ms) {
                if e < s {
                    return Err(format!("end_ms {e} is before start_ms {s}"));
                }
            }
            Ok(Turn {
                role,
                text: text.to_string(),
                start_ms,
                end_ms,
            })
        })();
        match turn {
            Ok(t) => {
                if conv.agent.is_none() {
                    conv.agent = csv_field(&rec, cols.agent).map(|a| Value::String(a.to_string()));
                }
                conv.turns.push(t);
            }
            Err(e) => {
                let msg = format!("line {line}: {e}");
                if let Some(slot) = order.get_mut(at) {
                    slot.1 = Err(msg);
                }
            }
        }
    }
    Ok(order)
}

fn score_one(
    engine: &Arc<Engine>,
    fmt: Out,
    item: &Item<ScoreIn>,
    conv: Result<&Conversation, &String>,
) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let file = item.file.as_deref();
    let n = item.line;
    match conv {
        Ok(c) => {
            let report = engine.score(&c.turns);
            let previews = huashu::wire::conversation_previews(engine, &c.turns);
            match fmt {
                Out::Jsonl => {
                    serde_json::to_writer(
                        &mut out,
                        &score_out(&c.id, c.agent.as_ref(), c.date.as_ref(), &report, &previews),
                    )?;
                    out.push(b'\n');
                }
                Out::Text => out.extend_from_slice(
                    crate::score::text_report(&c.id, &c.turns, &report).as_bytes(),
                ),
                Out::Csv => {
                    let b = |x: bool| if x { "true" } else { "false" };
                    let st = &report.structure;
                    let rules: Vec<&str> = report.findings.iter().map(|f| &*f.rule_id).collect();
                    let failed: Vec<&str> = report
                        .checks
                        .iter()
                        .filter(|c| !c.passed)
                        .map(|c| c.id.as_str())
                        .collect();
                    let agent = c.agent.as_ref().map(id_string).unwrap_or_default();
                    let nums = [
                        n.to_string(),
                        id_string(&c.id),
                        report.score.to_string(),
                        st.score.to_string(),
                        st.complaints.to_string(),
                        report.turns.to_string(),
                        report.findings_total.to_string(),
                        rules.join(";"),
                        failed.join(";"),
                    ];
                    out.extend(csv_row(&[
                        file.unwrap_or(""),
                        &nums[0],
                        &nums[1],
                        &agent,
                        &nums[2],
                        b(report.passed),
                        b(report.fatal),
                        report.fatal_reason.as_deref().unwrap_or(""),
                        &nums[3],
                        &nums[4],
                        b(st.empathy),
                        b(st.solution),
                        b(st.commitment),
                        b(st.in_order),
                        &nums[5],
                        &nums[6],
                        &nums[7],
                        &nums[8],
                        "",
                    ])?);
                }
            }
        }
        Err(error) => error_out(&mut out, fmt, file, n, error, 19)?,
    }
    Ok(out)
}
