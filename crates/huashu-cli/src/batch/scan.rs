//! `huashu scan` as a batch item kind: one turn in (a JSON line or a CSV row), its findings and rewrite out.

use std::io::BufRead;

use anyhow::Result;
use huashu::{Engine, LastExchange};
use serde_json::Value;

use super::args::{BatchArgs, Out};
use super::csv_in::{csv_columns, csv_field, csv_reader, csv_role, line_of};
use super::pipeline::{Input, Kind, csv_row, id_string};
use super::source::{Item, Source};
use crate::input::{MAX_LINE_BYTES, RawLine, Record, parse_turn};
use crate::render::{ScanOut, text_report};

/// Scans turns with one engine.
pub(super) struct Scan {
    pub(super) engine: Engine,
    /// `--previous`: the other party's previous turn for every line that gives none of its own.
    pub(super) previous: Option<String>,
}

impl Kind for Scan {
    type Parsed = Record;
    const CSV_HEADER: &'static str = "file,line,id,role,rule,category,severity,start,end,matched,message,suggestion,rewrite,error\n";
    const MAX_LINE: usize = MAX_LINE_BYTES;

    fn parse_line(&self, raw: &RawLine) -> Option<Result<Record, String>> {
        Some(parse_turn(raw.clone()))
    }

    /// Rows are turns, streamed in chunks like JSON lines.
    fn read_csv(
        &self,
        src: &Source,
        reader: Box<dyn BufRead>,
        args: &BatchArgs,
        mut push: impl FnMut(Item<Input<Record>>, usize) -> Result<()>,
    ) -> Result<Option<String>> {
        let mut rdr = csv_reader(reader);
        let cols = match csv_columns(&mut rdr, args) {
            Ok(c) => c,
            Err(e) => return Ok(Some(e)),
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
                            previous: None,
                            own_previous: None,
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
            push(
                Item {
                    file: src.label.clone(),
                    line,
                    input: Input::Parsed(parsed),
                },
                bytes,
            )?;
        }
        Ok(None)
    }

    fn write(
        &self,
        fmt: Out,
        file: Option<&str>,
        n: usize,
        rec: &Record,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let engine = &self.engine;
        let exchange = LastExchange {
            previous: rec.previous.as_deref().or(self.previous.as_deref()),
            own_previous: rec.own_previous.as_deref(),
        };
        let findings = engine.scan_turn(rec.role, &rec.text, exchange, 0);
        let rewrite = engine.compliant_rewrite(rec.role, &rec.text, &findings);
        let previews = engine.previews_turn(rec.role, &rec.text, exchange, 0);
        match fmt {
            Out::Jsonl => {
                let line = ScanOut::new(&rec.id, &findings, &rewrite, &previews);
                serde_json::to_writer(&mut *out, &line)?;
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
        Ok(())
    }
}
