//! Corpus references in labels (`"ref"`): the text of a turn, and the other party's turn before it, read from
//! a corpus directory at run time so that labels of data that may not be redistributed carry no text.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Resolves `ref` fields against a directory of corpora, reading each file once.
///
/// - `FILE:N` — line `N` (1-based) of a text file; for a `.tsv` file the text is the columns from the
///   seventh on (the JDDC layout: session, user, role, transfer, repeat, sku, content);
/// - `FILE:N/K` — reply `K` (1-based) of line `N` in the JDDC 2019 dev layout: a line holds up to three
///   agents' replies split by `<sep>` (after a `Q:`/`A:` tag), one agent's several messages joined by
///   `!@@@!`, which become line breaks (a clause break, so two messages never read as one phrase);
/// - `FILE#I/J` — in a JSON array file, conversation `I`, turn `J`: `dialogContent[J].message` (IBM
///   Twitter customer care; `J` = `agent_url` for its `agentURL.url_utterance`) or `original[J][1]` (ABCD).
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct CorpusRefs {
    dir: Option<PathBuf>,
    lines: HashMap<String, Vec<String>>,
    json: HashMap<String, Value>,
}

impl CorpusRefs {
    pub fn new(dir: Option<&Path>) -> CorpusRefs {
        CorpusRefs {
            dir: dir.map(Path::to_path_buf),
            ..CorpusRefs::default()
        }
    }

    /// The text `reference` points at.
    ///
    /// # Errors
    /// No corpus directory, a missing or unreadable file, a line or turn that does not exist, a malformed
    /// reference: each message names the reference.
    pub fn resolve(&mut self, reference: &str) -> Result<String, String> {
        let dir = self.dir.clone().ok_or_else(|| {
            format!(
                "`ref` {reference:?} needs a corpus directory (--corpora DIR or HUASHU_CORPORA)"
            )
        })?;
        if let Some((file, at)) = reference.split_once('#') {
            return self.resolve_json(&dir, file, at, reference);
        }
        let (file, n) = reference.rsplit_once(':').ok_or_else(|| {
            format!("`ref` {reference:?} is neither FILE:LINE[/REPLY] nor FILE#I/J")
        })?;
        let (n, reply) = match n.split_once('/') {
            Some((n, k)) => (n, Some(k)),
            None => (n, None),
        };
        let n: usize = n
            .parse()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("`ref` {reference:?}: {n:?} is not a line number"))?;
        if !self.lines.contains_key(file) {
            let path = dir.join(file);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("`ref` {reference:?}: cannot read {}: {e}", path.display()))?;
            self.lines
                .insert(file.to_string(), text.lines().map(str::to_string).collect());
        }
        let line = self.lines[file]
            .get(n - 1)
            .ok_or_else(|| format!("`ref` {reference:?}: {file} has fewer than {n} lines"))?;
        if let Some(k) = reply {
            return dev_reply(line, k).ok_or_else(|| {
                format!("`ref` {reference:?}: line {n} of {file} has no reply {k:?}")
            });
        }
        if file.ends_with(".tsv") {
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() < 7 {
                return Err(format!(
                    "`ref` {reference:?}: line {n} of {file} has {} columns, not the 7 of a chat row",
                    cols.len()
                ));
            }
            Ok(cols[6..].join("\t"))
        } else {
            Ok(line.clone())
        }
    }

    /// The other party's turn before the one `reference` points at, where the corpus says who spoke: in a
    /// JDDC chat `.tsv`, the nearest earlier row of the same session with the other role; in the JDDC 2019
    /// dev layout (`FILE:N/K`), the nearest earlier `Q:` line of the same session; in a JSON conversation, the
    /// nearest earlier turn of the other speaker. None where the corpus has no such turn (the JDDC 2018
    /// replies and `jddc2019_dev_answer.txt` hold agent replies only) or `reference` does not resolve.
    pub fn previous(&mut self, reference: &str) -> Option<String> {
        self.resolve(reference).ok()?;
        if let Some((file, at)) = reference.split_once('#') {
            let (i, j) = at.split_once('/')?;
            let conv = self.json.get(file)?.get(i.parse::<usize>().ok()?)?;
            let p = json_previous_at(conv, j)?;
            return json_text(conv, p);
        }
        let (file, n) = reference.rsplit_once(':')?;
        let (n, reply) = match n.split_once('/') {
            Some((n, _)) => (n, true),
            None => (n, false),
        };
        let n: usize = n.parse().ok()?;
        let lines = self.lines.get(file)?;
        let earlier = lines[..n - 1].iter().rev();
        if reply {
            let body = earlier
                .take_while(|l| !l.starts_with("<session"))
                .find_map(|l| l.strip_prefix("Q:\t"))?;
            return Some(body.replace("!@@@!", "\n"));
        }
        if !file.ends_with(".tsv") {
            return None;
        }
        let cols: Vec<&str> = lines[n - 1].split('\t').collect();
        let (session, role) = (*cols.first()?, *cols.get(2)?);
        earlier
            .map(|l| l.split('\t').collect::<Vec<&str>>())
            .take_while(|c| c.first() == Some(&session))
            .find(|c| c.get(2) != Some(&role) && c.len() >= 7)
            .map(|c| c[6..].join("\t"))
    }

    /// This party's own turn that [`CorpusRefs::previous`] answered: in a JDDC chat `.tsv`, the nearest row
    /// of this row's role before that previous row, in the same session; in a JSON conversation, the nearest
    /// turn of this speaker before the previous turn. None where there is no previous turn, where the
    /// previous turn opened the conversation, and in layouts whose rows hold several agents' replies.
    pub fn own_previous(&mut self, reference: &str) -> Option<String> {
        self.resolve(reference).ok()?;
        if let Some((file, at)) = reference.split_once('#') {
            let (i, j) = at.split_once('/')?;
            let conv = self.json.get(file)?.get(i.parse::<usize>().ok()?)?;
            let p = json_previous_at(conv, j)?;
            return json_text(conv, json_previous_at(conv, &p.to_string())?);
        }
        let (file, n) = reference.rsplit_once(':')?;
        if !file.ends_with(".tsv") || n.contains('/') {
            return None;
        }
        let n: usize = n.parse().ok()?;
        let lines = self.lines.get(file)?;
        let cols = |l: &str| l.split('\t').map(str::to_string).collect::<Vec<String>>();
        let me = cols(&lines[n - 1]);
        let (session, role) = (me.first()?.clone(), me.get(2)?.clone());
        let mut earlier = lines[..n - 1]
            .iter()
            .rev()
            .map(|l| cols(l))
            .take_while(|c| c.first() == Some(&session));
        earlier.find(|c| c.get(2) != Some(&role) && c.len() >= 7)?;
        earlier
            .find(|c| c.get(2) == Some(&role) && c.len() >= 7)
            .map(|c| c[6..].join("\t"))
    }

    fn resolve_json(
        &mut self,
        dir: &Path,
        file: &str,
        at: &str,
        reference: &str,
    ) -> Result<String, String> {
        if !self.json.contains_key(file) {
            let path = dir.join(file);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("`ref` {reference:?}: cannot read {}: {e}", path.display()))?;
            let v: Value = serde_json::from_str(&text)
                .map_err(|e| format!("`ref` {reference:?}: {} is not JSON: {e}", path.display()))?;
            self.json.insert(file.to_string(), v);
        }
        let bad = || format!("`ref` {reference:?}: no such conversation/turn in {file}");
        let (i, j) = at.split_once('/').ok_or_else(bad)?;
        let i: usize = i.parse().map_err(|_| bad())?;
        let conv = self.json[file].get(i).ok_or_else(bad)?;
        let text = if j == "agent_url" {
            conv.pointer("/agentURL/url_utterance")
        } else {
            let j: usize = j.parse().map_err(|_| bad())?;
            conv.get("dialogContent")
                .and_then(|d| d.get(j))
                .and_then(|t| t.get("message"))
                .or_else(|| {
                    conv.get("original")
                        .and_then(|o| o.get(j))
                        .and_then(|t| t.get(1))
                })
        };
        text.and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(bad)
    }
}

/// Where IBM's `agentURL` reply goes among the `len` turns of its thread (`agentURL.turn`, 1-based; past the
/// end, or none: after them). [`crate::eval_chats`] places it there too.
pub(crate) fn agent_url_position(conv: &Value, len: usize) -> usize {
    conv.pointer("/agentURL/turn")
        .and_then(|t| t.as_str().and_then(|s| s.parse().ok()).or(t.as_u64()))
        .and_then(|t| usize::try_from(t).ok())
        .map_or(len, |t: usize| t.saturating_sub(1).min(len))
}

/// The text of turn `p` of a JSON conversation: IBM's `dialogContent[p].message` or ABCD's `original[p][1]`.
fn json_text(conv: &Value, p: usize) -> Option<String> {
    if let Some(turns) = conv.get("dialogContent").and_then(Value::as_array) {
        return turns.get(p)?.get("message")?.as_str().map(str::to_string);
    }
    conv.get("original")?
        .get(p)?
        .get(1)?
        .as_str()
        .map(str::to_string)
}

/// Where the turn before turn `j` (a number, or IBM's `agent_url`) by the other speaker is: in IBM's
/// `dialogContent` (a turn is keyed by its speaker, `agent` or `client`; the `agent_url` reply is the agent's
/// and stands at [`agent_url_position`]) or ABCD's `original` (`[speaker, text]`).
fn json_previous_at(conv: &Value, j: &str) -> Option<usize> {
    if let Some(turns) = conv.get("dialogContent").and_then(Value::as_array) {
        let is_agent = |t: &Value| t.get("agent").is_some();
        let (at, me) = if j == "agent_url" {
            (agent_url_position(conv, turns.len()), true)
        } else {
            let j: usize = j.parse().ok()?;
            (j, is_agent(turns.get(j)?))
        };
        return turns[..at].iter().rposition(|t| is_agent(t) != me);
    }
    let j: usize = j.parse().ok()?;
    let turns = conv.get("original")?.as_array()?;
    let who = |t: &Value| t.get(0).and_then(Value::as_str).map(str::to_string);
    let me = who(turns.get(j)?);
    turns[..j].iter().rposition(|t| who(t) != me)
}

/// Reply `k` (1-based) of a JDDC 2019 dev line; `NULL` (no reply in that slot) is no reply.
fn dev_reply(line: &str, k: &str) -> Option<String> {
    let k: usize = k.parse().ok().filter(|&k| k > 0)?;
    let body = line
        .strip_prefix("A:\t")
        .or_else(|| line.strip_prefix("Q:\t"))
        .unwrap_or(line);
    let reply = body.split("<sep>").nth(k - 1)?.trim();
    (!reply.is_empty() && reply != "NULL").then(|| reply.replace("!@@@!", "\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// IBM's agent reply kept apart (`agentURL`) answers the customer's last message before its `turn`
    /// (1-based), or the thread's last customer message when it has none: that is its `previous`, and the
    /// agent's turn before that its `own_previous`.
    #[test]
    fn an_agent_url_reply_is_read_after_the_customer_message_it_answers() {
        let dir = std::env::temp_dir().join(format!("huashu-refs-url-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(
            dir.join("t.json"),
            r#"[{"dialogContent":[{"client":"c","message":"can you refund me?"},{"agent":"a","message":"which order?"},{"client":"c","message":"order 123"},{"client":"c","message":"hello??"}],"agentURL":{"turn":"4","url_utterance":"No."}},
               {"dialogContent":[{"client":"c","message":"my card was charged twice"}],"agentURL":{"url_utterance":"See our help site."}}]"#,
        )
        .expect("write");
        let mut refs = CorpusRefs::new(Some(&dir));
        assert_eq!(refs.resolve("t.json#0/agent_url").as_deref(), Ok("No."));
        assert_eq!(
            refs.previous("t.json#0/agent_url").as_deref(),
            Some("order 123")
        );
        assert_eq!(
            refs.own_previous("t.json#0/agent_url").as_deref(),
            Some("which order?")
        );
        assert_eq!(
            refs.previous("t.json#1/agent_url").as_deref(),
            Some("my card was charged twice")
        );
        assert_eq!(refs.own_previous("t.json#1/agent_url"), None);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn refs_resolve_lines_tsv_columns_and_json_turns() {
        let dir = std::env::temp_dir().join(format!("huashu-refs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("a.txt"), "one\ntwo\n").expect("write");
        std::fs::write(dir.join("c.tsv"), "s\tu\t1\t0\t0\tnan\t你好\t呀\n").expect("write");
        std::fs::write(
            dir.join("t.json"),
            r#"[{"dialogContent":[{"client":"x","message":"hi"},{"agent":"y","message":"hello"}],"agentURL":{"url_utterance":"see"}},{"original":[["agent","Hi!"]]}]"#,
        )
        .expect("write");
        let mut refs = CorpusRefs::new(Some(&dir));
        assert_eq!(refs.resolve("a.txt:2").as_deref(), Ok("two"));
        assert_eq!(refs.previous("a.txt:2"), None);
        assert_eq!(refs.previous("t.json#0/1").as_deref(), Some("hi"));
        assert_eq!(refs.previous("t.json#0/0"), None);
        assert_eq!(refs.resolve("c.tsv:1").as_deref(), Ok("你好\t呀"));
        assert_eq!(refs.resolve("t.json#0/1").as_deref(), Ok("hello"));
        assert_eq!(refs.resolve("t.json#0/agent_url").as_deref(), Ok("see"));
        assert_eq!(refs.resolve("t.json#1/0").as_deref(), Ok("Hi!"));
        assert_eq!(
            refs.resolve("a.txt:3"),
            Err("`ref` \"a.txt:3\": a.txt has fewer than 3 lines".to_string())
        );
        std::fs::write(
            dir.join("d.txt"),
            "<session a>\nA:\t可以改!@@@!提供一下地址<sep>好的<sep>NULL\n",
        )
        .expect("write");
        assert_eq!(
            refs.resolve("d.txt:2/1").as_deref(),
            Ok("可以改\n提供一下地址")
        );
        assert_eq!(refs.resolve("d.txt:2/2").as_deref(), Ok("好的"));
        assert_eq!(refs.previous("d.txt:2/2"), None);
        std::fs::write(
            dir.join("q.txt"),
            "<session a>\nQ:\t备孕能用吗\nA:\t可以的<sep>NULL\n<session b>\nA:\t您好<sep>NULL\n",
        )
        .expect("write");
        assert_eq!(refs.previous("q.txt:3/1").as_deref(), Some("备孕能用吗"));
        // The question of another session is not this reply's.
        assert_eq!(refs.previous("q.txt:5/1"), None);
        std::fs::write(
            dir.join("s.tsv"),
            "a\tu\t0\t0\t0\tnan\t备孕能用吗\na\tu\t1\t0\t0\tnan\t您好\na\tu\t1\t0\t0\tnan\t可以的\nb\tu\t1\t0\t0\tnan\t在的\n",
        )
        .expect("write");
        // Two agent rows in a row: both answer the customer's last row.
        assert_eq!(refs.previous("s.tsv:3").as_deref(), Some("备孕能用吗"));
        assert_eq!(refs.previous("s.tsv:2").as_deref(), Some("备孕能用吗"));
        assert_eq!(refs.previous("s.tsv:1"), None);
        // Nothing before it in its own session.
        assert_eq!(refs.previous("s.tsv:4"), None);
        // The exchange: the agent's question before the customer's answer, past the customer's other rows.
        std::fs::write(
            dir.join("x.tsv"),
            "a\tu\t1\t0\t0\tnan\t发送验证码可以吗\na\tu\t0\t0\t0\tnan\t嗯\na\tu\t0\t0\t0\tnan\t可以\n\
             a\tu\t1\t0\t0\tnan\t请稍等\na\tu\t1\t0\t0\tnan\t告知下\nb\tu\t0\t0\t0\tnan\t在吗\nb\tu\t1\t0\t0\tnan\t在的\n",
        )
        .expect("write");
        assert_eq!(refs.previous("x.tsv:5").as_deref(), Some("可以"));
        assert_eq!(
            refs.own_previous("x.tsv:5").as_deref(),
            Some("发送验证码可以吗")
        );
        assert_eq!(
            refs.own_previous("x.tsv:4").as_deref(),
            Some("发送验证码可以吗")
        );
        assert_eq!(refs.own_previous("x.tsv:3"), None);
        // The customer opened the session: no agent turn before it.
        assert_eq!(refs.own_previous("x.tsv:7"), None);
        assert_eq!(refs.own_previous("t.json#0/1"), None);
        assert_eq!(refs.own_previous("q.txt:3/1"), None);
        assert_eq!(
            refs.resolve("d.txt:2/3"),
            Err("`ref` \"d.txt:2/3\": line 2 of d.txt has no reply \"3\"".to_string())
        );
        assert!(refs.resolve("d.txt:2/0").is_err());
        assert!(refs.resolve("t.json#5/0").is_err());
        assert!(refs.resolve("a.txt:x").is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
