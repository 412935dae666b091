use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use huashu::{Engine, Ruleset, apply_suggestions, selftest};
use serde_json::Value;

use crate::Format;
use crate::input::{Lines, MAX_LINE_BYTES, parse_turn};
use crate::render::{ErrorOut, FindingOut, ScanOut, text_report};

pub fn load_engine(ruleset: &str) -> Result<Engine> {
    let rs = Ruleset::load(ruleset).with_context(|| format!("cannot load ruleset {ruleset:?}"))?;
    Engine::new(rs).with_context(|| format!("cannot compile ruleset {ruleset:?}"))
}

pub fn score(ruleset: &str, format: Format, files: &[String]) -> Result<ExitCode> {
    let engine = std::sync::Arc::new(load_engine(ruleset)?);
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut failed_files = 0;
    if files.is_empty() {
        crate::score::score_reader(&engine, format, io::stdin().lock(), None, &mut out)?;
    }
    for path in files {
        match File::open(path) {
            Ok(f) => crate::score::score_reader(
                &engine,
                format,
                BufReader::new(f),
                Some(path),
                &mut out,
            )?,
            Err(e) => {
                eprintln!("huashu: cannot read {path}: {e}");
                failed_files += 1;
            }
        }
    }
    out.flush()?;
    Ok(if failed_files > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn scan(ruleset: &str, format: Format, files: &[String]) -> Result<ExitCode> {
    let engine = load_engine(ruleset)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut failed_files = 0;
    if files.is_empty() {
        scan_reader(&engine, format, io::stdin().lock(), None, &mut out)?;
    }
    for path in files {
        match File::open(path) {
            Ok(f) => scan_reader(&engine, format, BufReader::new(f), Some(path), &mut out)?,
            Err(e) => {
                eprintln!("huashu: cannot read {path}: {e}");
                failed_files += 1;
            }
        }
    }
    out.flush()?;
    Ok(if failed_files > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn scan_reader(
    engine: &Engine,
    format: Format,
    reader: impl BufRead,
    file: Option<&str>,
    out: &mut impl Write,
) -> Result<()> {
    let mut lines = Lines::new(reader, MAX_LINE_BYTES);
    let mut n = 0;
    loop {
        let raw = match lines.next_line() {
            Ok(Some(raw)) => raw,
            Ok(None) => break,
            Err(e) => {
                eprintln!(
                    "huashu: {}: read error after line {n}: {e}",
                    file.unwrap_or("<stdin>")
                );
                break;
            }
        };
        n += 1;
        match parse_turn(raw) {
            Ok(rec) => {
                let findings = engine.check(rec.role, &rec.text);
                let rewrite = apply_suggestions(&rec.text, &findings);
                match format {
                    Format::Jsonl => {
                        let line = ScanOut {
                            id: &rec.id,
                            findings: findings.iter().map(FindingOut::from).collect(),
                            rewrite: &rewrite,
                        };
                        serde_json::to_writer(&mut *out, &line)?;
                        out.write_all(b"\n")?;
                    }
                    Format::Text => {
                        let label = match (&rec.id, file) {
                            (Value::Null, Some(f)) => format!("{f}:{n}"),
                            (Value::Null, None) => format!("{n}"),
                            (id, _) => format!("{n} [{}]", id_label(id)),
                        };
                        out.write_all(
                            text_report(&label, &rec.text, &findings, &rewrite).as_bytes(),
                        )?;
                    }
                }
            }
            Err(error) => match format {
                Format::Jsonl => {
                    let line = ErrorOut {
                        id: Value::Null,
                        line: n,
                        file,
                        error: &error,
                    };
                    serde_json::to_writer(&mut *out, &line)?;
                    out.write_all(b"\n")?;
                }
                Format::Text => {
                    writeln!(out, "{}:{n}: error: {error}", file.unwrap_or("<stdin>"))?;
                }
            },
        }
    }
    Ok(())
}

fn id_label(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn check(ruleset: &str) -> Result<ExitCode> {
    let engine = match load_engine(ruleset) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("huashu check: {e:#}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let outcome = selftest::run(&engine);
    for p in &outcome.problems {
        println!("{p}");
    }
    let tag = engine.ruleset().version_tag();
    if outcome.passed() {
        println!(
            "{tag}: {} rules, {} examples: all passed",
            outcome.rules, outcome.examples
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "{tag}: {} rules, {} examples: {} problem(s)",
            outcome.rules,
            outcome.examples,
            outcome.problems.len()
        );
        Ok(ExitCode::FAILURE)
    }
}

pub fn explain(ruleset: &str, id: &str) -> Result<ExitCode> {
    let engine = load_engine(ruleset)?;
    let Some(rule) = engine.ruleset().rule(id) else {
        eprintln!(
            "huashu explain: no rule {id:?} in {}",
            engine.ruleset().version_tag()
        );
        return Ok(ExitCode::FAILURE);
    };
    let mut s = String::new();
    s.push_str(&format!(
        "{} {} ({}, {}, {:?} turns)\n",
        rule.id,
        rule.name,
        rule.category.as_str(),
        rule.severity.as_str(),
        rule.role
    ));
    s.push_str(&format!("  message: {}\n", rule.message));
    if !rule.why.is_empty() {
        s.push_str(&format!("  why:     {}\n", rule.why));
    }
    if let Some(tip) = &rule.tip {
        s.push_str(&format!("  tip:     {tip}\n"));
    }
    s.push_str(&format!("  file:    {}\n", rule.source.file));
    let m = &rule.matcher;
    let list = |name: &str, v: &[String], s: &mut String| {
        if !v.is_empty() {
            s.push_str(&format!("  {name}: {}\n", v.join(" | ")));
        }
    };
    list("phrases", &m.phrases, &mut s);
    list("regex", &m.regex, &mut s);
    list("unless followed by", &m.unless_followed_by, &mut s);
    list("unless preceded by", &m.unless_preceded_by, &mut s);
    list(
        &format!("unless within {} chars before", m.before_window),
        &m.unless_before,
        &mut s,
    );
    list(
        &format!("unless within {} chars after", m.after_window),
        &m.unless_after,
        &mut s,
    );
    list("unless the sentence has", &m.unless_sentence_has, &mut s);
    list("unless the turn has", &m.unless_turn_has, &mut s);
    list("only if the sentence has", &m.only_if_sentence_has, &mut s);
    for sug in &rule.suggest {
        let what = sug
            .replace
            .clone()
            .unwrap_or_else(|| format!("mask {:?}", sug.mask));
        s.push_str(&format!("  suggest ({:?}): {what}\n", sug.applicability));
    }
    for ex in &rule.example {
        if let Some(b) = &ex.bad {
            s.push_str(&format!("  ✗ {b}\n"));
            if let Some(f) = &ex.fixed {
                s.push_str(&format!("    → {f}\n"));
            }
        }
        if let Some(o) = &ex.ok {
            s.push_str(&format!("  ✓ {o}\n"));
        }
    }
    print!("{s}");
    Ok(ExitCode::SUCCESS)
}

pub fn schema(what: &str) -> Result<ExitCode> {
    let value = if what == "ruleset" {
        huashu::rules::manifest_schema()
    } else {
        huashu::rules::rule_schema()
    };
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(ExitCode::SUCCESS)
}
