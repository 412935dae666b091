//! Text helpers of the question fold: clauses of a chat turn, character bigrams and their overlap, quotes for
//! evidence. Kept apart from `questions.rs` so that the fold reads as the judgement it is.

use huashu_text::Span;

/// Distinct character bigrams kept per remembered question (bounds the state on very long turns).
const MAX_BIGRAMS: usize = 96;
/// Characters of a question quoted in evidence.
const QUOTE_CHARS: usize = 24;

/// The union of byte spans, sorted and merged, so that overlapping cues (请问 inside a closing offer) count once.
pub(crate) fn union(spans: impl Iterator<Item = Span>) -> Vec<Span> {
    let mut v: Vec<_> = spans.collect();
    v.sort_by_key(|r| r.start);
    let mut out: Vec<Span> = Vec::with_capacity(v.len());
    for r in v {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

/// The byte offset just past the clause that contains `at` in the original text (clause punctuation or
/// white space ends a clause in chat typing).
pub(crate) fn clause_end(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    text[at..]
        .char_indices()
        .find(|&(_, ch)| is_clause_end(ch) || ch.is_whitespace() || ch == '~' || ch == '～')
        .map_or(text.len(), |(i, ch)| at + i + ch.len_utf8())
}

/// The byte offset where the clause that contains `at` starts (after the previous clause punctuation or white
/// space), the counterpart of [`clause_end`].
pub(crate) fn clause_start(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    text[..at]
        .char_indices()
        .rev()
        .find(|&(_, ch)| is_clause_end(ch) || ch.is_whitespace() || ch == '~' || ch == '～')
        .map_or(0, |(i, ch)| i + ch.len_utf8())
}

/// Letters and digits of `text` within `region`, outside `skip` (sorted, disjoint spans).
pub(crate) fn content_chars(text: &str, region: Span, skip: &[Span]) -> usize {
    text[region.start..region.end]
        .char_indices()
        .map(|(i, ch)| (region.start + i, ch))
        .filter(|&(i, ch)| ch.is_alphanumeric() && !skip.iter().any(|s| s.start <= i && i < s.end))
        .count()
}

/// Where the answer is in an agent turn, given the clauses of its holds (请稍等, 正在为您查询; sorted, disjoint):
/// after the last hold that something substantive follows (请稍等… 您的订单已到站点), and before a hold that
/// only closes the turn (储蓄卡[数字x]个工作日 还请您耐心等待啦: the answer came first). A turn that is all holds and
/// filler has an answer region without content.
pub(crate) fn answer_region(text: &str, holds: &[Span], filler: &[Span], min_chars: usize) -> Span {
    let mut end = text.len();
    for h in holds.iter().rev() {
        let after = Span {
            start: h.end.min(end),
            end,
        };
        if content_chars(text, after, filler) >= min_chars.max(1) {
            return after;
        }
        end = h.start.min(end);
    }
    Span { start: 0, end }
}

/// A customer turn that only prompts the agent (?, ？？, 人呢?, 在不?): no letters or digits besides the words of a
/// call, and short.
pub(crate) fn nudge(text: &str) -> bool {
    let rest: Vec<char> = text
        .chars()
        .filter(|c| c.is_alphanumeric() && !"在吗呢嘛么人亲你您好啊哈不".contains(*c))
        .collect();
    rest.is_empty() && text.chars().filter(|c| c.is_alphanumeric()).count() <= 4
}

/// The clauses of a normalised turn that contain one of `asks` (byte offsets of question cues); a clause
/// runs to and includes its closing punctuation, so a `?` cue belongs to the clause it ends.
pub(crate) fn question_clauses(norm: &str, asks: &[usize]) -> String {
    let mut out = String::new();
    let mut start = 0;
    let flush = |from: usize, to: usize, out: &mut String| {
        if asks.iter().any(|&a| a >= from && a < to) {
            out.push_str(&norm[from..to]);
            out.push('|');
        }
    };
    for (i, ch) in norm.char_indices() {
        if is_clause_end(ch) {
            let end = i + ch.len_utf8();
            flush(start, end, &mut out);
            start = end;
        }
    }
    flush(start, norm.len(), &mut out);
    out
}

pub(crate) fn is_clause_end(c: char) -> bool {
    matches!(
        c,
        ',' | '.'
            | '!'
            | '?'
            | ';'
            | ':'
            | '~'
            | '\n'
            | '，'
            | '。'
            | '！'
            | '？'
            | '；'
            | '：'
            | '、'
            | '…'
    )
}

/// Distinct bigrams of adjacent letters, digits or CJK characters (punctuation and spaces break them),
/// sorted, at most [`MAX_BIGRAMS`].
pub(crate) fn bigrams(text: &str) -> Vec<u64> {
    let mut out = Vec::new();
    let mut prev: Option<char> = None;
    for ch in text.chars() {
        if ch.is_alphanumeric() {
            let ch = ch.to_lowercase().next().unwrap_or(ch);
            if let Some(p) = prev {
                out.push(((p as u64) << 32) | ch as u64);
            }
            prev = Some(ch);
        } else {
            prev = None;
        }
    }
    out.sort_unstable();
    out.dedup();
    out.truncate(MAX_BIGRAMS);
    out
}

/// Dice coefficient of two sorted bigram sets: 2·|A∩B| / (|A|+|B|).
pub(crate) fn dice(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    2.0 * common as f64 / (a.len() + b.len()) as f64
}

/// The start of a turn, for evidence.
pub(crate) fn quote(text: &str) -> String {
    let t = text.trim();
    let mut q: String = t.chars().take(QUOTE_CHARS).collect();
    if t.chars().count() > QUOTE_CHARS {
        q.push('…');
    }
    q
}
