//! Where batch input comes from: files and directories (walked in name order) or stdin, read as JSON lines.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Result;

use super::args::{BatchArgs, InputFormat};
use crate::input::{Lines, RawLine};

/// File extensions taken from a directory.
pub(super) const EXTENSIONS: &[&str] = &["jsonl", "ndjson", "json", "csv", "txt"];

/// Files to read, in order: each argument, directories walked recursively in name order.
pub(super) fn expand(args: &[String], failed: &mut usize) -> Vec<PathBuf> {
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

pub(super) fn is_csv(path: Option<&Path>, args: &BatchArgs) -> bool {
    match args.input_format {
        InputFormat::Csv => true,
        InputFormat::Jsonl => false,
        InputFormat::Auto => path
            .and_then(|p| p.extension())
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("csv")),
    }
}

/// A source of input: a file or standard input.
pub(super) struct Source {
    pub(super) path: Option<PathBuf>,
    pub(super) label: Option<Arc<str>>,
}

pub(super) fn sources(files: &[String], failed: &mut usize) -> Vec<Source> {
    if files.is_empty() {
        return vec![Source {
            path: None,
            label: None,
        }];
    }
    // `-` is standard input, as for most command-line tools (`… | huashu scan - more.jsonl`).
    let mut out = Vec::new();
    for (is_stdin, group) in files
        .chunk_by(|a, b| (a == "-") == (b == "-"))
        .map(|g| (g[0] == "-", g))
    {
        if is_stdin {
            out.extend(group.iter().map(|_| Source {
                path: None,
                label: None,
            }));
            continue;
        }
        out.extend(expand(group, failed).into_iter().map(|p| Source {
            label: Some(Arc::from(p.to_string_lossy().as_ref())),
            path: Some(p),
        }));
    }
    out
}

pub(super) fn open(src: &Source) -> io::Result<Box<dyn BufRead>> {
    match &src.path {
        None => Ok(Box::new(BufReader::new(io::stdin()))),
        Some(p) => Ok(Box::new(BufReader::with_capacity(1 << 16, File::open(p)?))),
    }
}

/// Opens a source, or reports it on stderr and counts it as failed: one unreadable file never stops a batch.
pub(super) fn open_or_report(src: &Source, failed: &mut usize) -> Option<Box<dyn BufRead>> {
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

pub(super) fn total_bytes(srcs: &[Source]) -> u64 {
    srcs.iter()
        .filter_map(|s| s.path.as_ref())
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// Reads JSON lines, pushing each (raw) line; a read error ends the file (reported on stderr).
pub(super) fn read_lines<I>(
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

/// One unit of work: where it came from and its input, parsed later on a worker or already parsed.
pub(super) struct Item<I> {
    pub(super) file: Option<Arc<str>>,
    pub(super) line: usize,
    pub(super) input: I,
}
