//! `huashu score` as a batch item kind: one conversation in (a JSON line, or CSV rows grouped by id), its
//! scorecard out.

use std::collections::HashMap;
use std::io::BufRead;
use std::sync::Arc;

use anyhow::Result;
use huashu::{Engine, Turn};
use serde_json::Value;

use super::args::{BatchArgs, Out};
use super::csv_in::{csv_columns, csv_field, csv_ms, csv_reader, csv_role, line_of};
use super::pipeline::{Input, Kind, csv_row, id_string};
use super::source::{Item, Source};
use crate::input::RawLine;
use crate::score::{Conversation, MAX_CONVERSATION_BYTES, parse_conversation, score_out};

/// Scores conversations with one engine.
pub(super) struct Score {
    pub(super) engine: Arc<Engine>,
}

impl Kind for Score {
    type Parsed = Conversation;
    const CSV_HEADER: &'static str = "file,line,id,agent,score,passed,fatal,fatal_reason,structure_score,complaints,empathy,solution,commitment,in_order,turns,findings_total,rules,failed_checks,error\n";
    const MAX_LINE: usize = MAX_CONVERSATION_BYTES;

    /// A blank line is no conversation (no output).
    fn parse_line(&self, raw: &RawLine) -> Option<Result<Conversation, String>> {
        if let RawLine::Bytes(b) = raw {
            if b.iter().all(u8::is_ascii_whitespace) {
                return None;
            }
        }
        Some(parse_conversation(raw.clone()))
    }

    /// A CSV file is read whole (rows are grouped by id); its bytes are spread over its conversations for
    /// the progress bar.
    fn read_csv(
        &self,
        src: &Source,
        reader: Box<dyn BufRead>,
        args: &BatchArgs,
        mut push: impl FnMut(Item<Input<Conversation>>, usize) -> Result<()>,
    ) -> Result<Option<String>> {
        let convs = match csv_conversations(src, reader, args) {
            Ok(c) => c,
            Err(e) => return Ok(Some(e)),
        };
        let n = convs.len().max(1);
        let size = src
            .path
            .as_ref()
            .and_then(|p| std::fs::metadata(p).ok())
            .map_or(0, |m| m.len() as usize);
        for (line, conv) in convs {
            push(
                Item {
                    file: src.label.clone(),
                    line,
                    input: Input::Parsed(conv),
                },
                size / n,
            )?;
        }
        Ok(None)
    }

    fn write(
        &self,
        fmt: Out,
        file: Option<&str>,
        n: usize,
        c: &Conversation,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let report = self.engine.score(&c.turns);
        let previews = huashu::wire::conversation_previews(&self.engine, &c.turns);
        match fmt {
            Out::Jsonl => {
                serde_json::to_writer(
                    &mut *out,
                    &score_out(&c.id, c.agent.as_ref(), c.date.as_ref(), &report, &previews),
                )?;
                out.push(b'\n');
            }
            Out::Text => out
                .extend_from_slice(crate::score::text_report(&c.id, &c.turns, &report).as_bytes()),
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
        Ok(())
    }
}

type CsvConversations = Vec<(usize, Result<Conversation, String>)>;

/// Rows are turns; rows with the same id are one conversation (in the order of its first row; turns in row
/// order). Without an id column the whole file is one conversation named after the file.
pub(super) fn csv_conversations(
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
            Ok(Turn::new(role, text).with_optional_times(start_ms, end_ms))
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
