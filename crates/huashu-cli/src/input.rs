//! Reading JSON-lines input: bounded lines, bad bytes and bad records become per-line errors, never a crash.

use std::io::{self, BufRead};

use huashu::Role;
use serde_json::Value;

/// Longest line accepted; a longer one is reported and skipped without being held in memory.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// One input line, as read.
#[derive(Debug, Clone)]
pub enum RawLine {
    Bytes(Vec<u8>),
    TooLong(usize),
}

/// Reads lines of at most `max` bytes. Returns `None` at end of input.
pub struct Lines<R> {
    reader: R,
    max: usize,
}

impl<R: BufRead> Lines<R> {
    pub fn new(reader: R, max: usize) -> Self {
        Lines { reader, max }
    }

    pub fn next_line(&mut self) -> io::Result<Option<RawLine>> {
        let mut buf = Vec::new();
        let mut total = 0usize;
        let mut too_long = false;
        loop {
            let chunk = self.reader.fill_buf()?;
            if chunk.is_empty() {
                if total == 0 {
                    return Ok(None);
                }
                break;
            }
            let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            total += take;
            if !too_long {
                if buf.len() + take > self.max + 2 {
                    too_long = true;
                    buf = Vec::new();
                } else {
                    buf.extend_from_slice(&chunk[..take]);
                }
            }
            self.reader.consume(take);
            if done {
                break;
            }
        }
        if too_long {
            return Ok(Some(RawLine::TooLong(total)));
        }
        while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            buf.pop();
        }
        if buf.len() > self.max {
            return Ok(Some(RawLine::TooLong(total)));
        }
        Ok(Some(RawLine::Bytes(buf)))
    }
}

/// A turn to scan, parsed from one line.
#[derive(Debug)]
pub struct Record {
    pub id: Value,
    pub role: Role,
    pub text: String,
    /// The other party's turn just before this one (`"previous"`), for rules with `only_after_turn_has`.
    pub previous: Option<String>,
    /// This party's own turn that `previous` answered (`"own_previous"`), for rules with
    /// `only_after_exchange_has` (an agent's 这边发送验证码…可以吗 before the customer's 可以).
    pub own_previous: Option<String>,
}

/// The text of one line read with a `max`-byte limit, or the error record's message.
pub fn line_text(raw: RawLine, max: usize) -> Result<String, String> {
    let bytes = match raw {
        RawLine::TooLong(n) => {
            return Err(format!(
                "line is {n} bytes, over the limit of {max} bytes; skipped"
            ));
        }
        RawLine::Bytes(b) => b,
    };
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "invalid UTF-8 at byte {} of the line",
            e.utf8_error().valid_up_to()
        )
    })
}

/// Parses one line: a JSON object `{"id", "role", "text", "previous"?, "own_previous"?}`, or (when it does not start with `{`) the plain
/// text of an agent turn.
pub fn parse_turn(raw: RawLine) -> Result<Record, String> {
    let line = line_text(raw, MAX_LINE_BYTES)?;
    let line = line.strip_prefix('\u{FEFF}').unwrap_or(&line);
    if !line.trim_start().starts_with('{') {
        return Ok(Record {
            id: Value::Null,
            role: Role::Agent,
            text: line.to_string(),
            previous: None,
            own_previous: None,
        });
    }
    let value: Value = serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let Value::Object(mut obj) = value else {
        return Err("expected a JSON object".into());
    };
    let id = obj.remove("id").unwrap_or(Value::Null);
    let role = match obj.get("role") {
        None | Some(Value::Null) => Role::Agent,
        Some(Value::String(s)) => Role::parse(s).ok_or_else(|| {
            format!("unknown role {s:?} (expected \"agent\", \"customer\" or \"system\")")
        })?,
        Some(other) => return Err(format!("field \"role\" must be a string, not {other}")),
    };
    let text = match obj.remove("text") {
        Some(Value::String(s)) => s,
        None => return Err("missing field \"text\"".into()),
        Some(other) => {
            return Err(format!(
                "field \"text\" must be a string, not {}",
                type_name(&other)
            ));
        }
    };
    let previous = optional_string(&mut obj, "previous")?;
    let own_previous = optional_string(&mut obj, "own_previous")?;
    Ok(Record {
        id,
        role,
        text,
        previous,
        own_previous,
    })
}

/// An optional string field: absent or null is `None`, anything but a string is an error naming the field.
fn optional_string(
    obj: &mut serde_json::Map<String, Value>,
    field: &str,
) -> Result<Option<String>, String> {
    match obj.remove(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!(
            "field \"{field}\" must be a string, not {}",
            type_name(&other)
        )),
    }
}

pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
