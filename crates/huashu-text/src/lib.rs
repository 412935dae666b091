//! Text normalisation for Huashu, with an alignment back to the original text.
//!
//! Rules are written once and must match whatever an agent (or a speech recogniser) typed: traditional or
//! simplified characters, full-width letters, spaces or symbols inserted between characters, stuttered
//! characters, `百分之百` for `100%`. [`normalize`] folds all of these into one canonical form and keeps, for
//! every character it emits, the byte range of the original text it came from, so that a match found in the
//! normalised text can be reported as a [`Span`] of the original.
//!
//! ```
//! use huashu_text::{normalize, Options};
//! let n = normalize("這-不是 我的問題", &Options::default());
//! assert_eq!(n.as_str(), "这不是我的问题");
//! // "问题" in the normalised text is "問題" in the original.
//! let span = n.original_span(n.as_str().find("问题").unwrap()..n.as_str().len());
//! assert_eq!(&"這-不是 我的問題"[span.start..span.end], "問題");
//! ```

mod chars;
mod t2s;

pub use chars::{is_cjk, is_clause_break, is_noise, is_sentence_break};

use std::ops::Range;

/// A byte range into a text. Always on `char` boundaries of the text it was made for.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start >= self.end
    }

    pub fn overlaps(&self, other: &Span) -> bool {
        self.start < other.end && other.start < self.end
    }

    pub fn contains(&self, other: &Span) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// The same span in characters of `text` (the text it points into).
    pub fn to_chars(&self, text: &str) -> Range<usize> {
        let start = text[..self.start].chars().count();
        let end = start + text[self.start..self.end].chars().count();
        start..end
    }
}

impl From<Range<usize>> for Span {
    fn from(r: Range<usize>) -> Self {
        Span::new(r.start, r.end)
    }
}

/// Which folds [`normalize`] applies. All on by default; a ruleset may switch some off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Full-width ASCII and the ideographic space to half width.
    pub width: bool,
    /// Lower case.
    pub case: bool,
    /// Traditional Chinese characters to simplified (OpenCC character table).
    pub traditional: bool,
    /// `百分之百`, `百分百`, `百分之一百` to `100%`; regional variants such as `甚麼` to `什么`.
    pub numbers: bool,
    /// Drop whitespace and symbols inserted between characters (a single space between two ASCII words stays).
    pub noise: bool,
    /// Collapse a run of the same CJK character or punctuation mark to one.
    pub repeats: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            width: true,
            case: true,
            traditional: true,
            numbers: true,
            noise: true,
            repeats: true,
        }
    }
}

/// A normalised text and, for each of its characters, where it came from in the original.
#[derive(Debug, Clone, Default)]
pub struct Normalized {
    text: String,
    /// One entry per normalised char: (byte offset in `text`, original start, original end).
    map: Vec<(u32, u32, u32)>,
}

impl Normalized {
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Number of characters in the normalised text.
    pub fn char_len(&self) -> usize {
        self.map.len()
    }

    /// Maps a byte range of the normalised text (on its char boundaries) to the byte range of the original
    /// text it came from. An empty or out-of-range input gives an empty span at the nearest position.
    pub fn original_span(&self, norm: Range<usize>) -> Span {
        if self.map.is_empty() {
            return Span::default();
        }
        if norm.start >= self.text.len() {
            let at = self.end_of_original();
            return Span::new(at, at);
        }
        let first = self.char_at(norm.start);
        if norm.end <= norm.start {
            let at = self.map[first].1 as usize;
            return Span::new(at, at);
        }
        let last = self.char_at(norm.end - 1);
        let start = self.map[first].1 as usize;
        let end = self.map[last].2 as usize;
        Span::new(start, end.max(start))
    }

    /// Index of the normalised char that contains byte `b` (or the char count if `b` is past the end).
    fn char_at(&self, b: usize) -> usize {
        match self.map.binary_search_by_key(&(b as u32), |m| m.0) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1).min(self.map.len() - 1),
        }
    }

    fn end_of_original(&self) -> usize {
        self.map.last().map_or(0, |m| m.2 as usize)
    }
}

/// Normalises `input` as described in the crate docs. Never fails; every input, however odd, gives a
/// normalised text whose alignment points inside `input` on char boundaries.
pub fn normalize(input: &str, opts: &Options) -> Normalized {
    let mut out = Normalized {
        text: String::with_capacity(input.len()),
        map: Vec::with_capacity(input.len() / 2 + 1),
    };
    normalize_into(&mut out, input, opts);
    out
}

/// As [`normalize`], reusing `out`'s buffers (the hot path normalises every turn into one scratch value).
pub fn normalize_into(out: &mut Normalized, input: &str, opts: &Options) {
    out.text.clear();
    out.map.clear();
    out.text.reserve(input.len());
    out.map.reserve(input.len() / 3 + 8);
    let table = opts.traditional.then(t2s::table);
    // First whitespace char (original byte range) seen since the last emitted char, if any.
    let mut pending_space: Option<(usize, usize)> = None;
    let mut last: Option<char> = None;
    // End of a multi-character form already emitted; chars before it are skipped.
    let mut skip_to = 0;
    // Start of a run of characters emitted unchanged: copied in one go when the run ends.
    let mut run: Option<usize> = None;
    for (s, raw) in input.char_indices() {
        if s < skip_to {
            continue;
        }
        let e = s + raw.len_utf8();
        if is_cjk(raw) {
            // Fast path: nearly every character of a Chinese turn is an ideograph.
            if opts.numbers && (raw == '百' || raw == '甚') {
                if let Some((len, to)) = form_at(&input[s..]) {
                    flush(out, input, &mut run, s);
                    skip_to = s + len;
                    pending_space = None;
                    for c in to.chars() {
                        push(out, c, s, s + len);
                        last = Some(c);
                    }
                    continue;
                }
            }
            let c = table.map_or(raw, |t| t.get(raw));
            pending_space = None;
            if opts.repeats && last == Some(c) {
                flush(out, input, &mut run, s);
                if let Some(m) = out.map.last_mut() {
                    m.2 = e as u32;
                }
                continue;
            }
            emit(out, input, &mut run, c, raw, s, e);
            last = Some(c);
            continue;
        }
        let c = fold(raw, opts);
        if opts.noise && c == '.' && dotted_single_chars(input, s, e) {
            flush(out, input, &mut run, s);
            continue;
        }
        if opts.noise {
            if c.is_whitespace() && c != '\n' {
                flush(out, input, &mut run, s);
                pending_space.get_or_insert((s, e));
                continue;
            }
            if is_noise(c) {
                flush(out, input, &mut run, s);
                continue;
            }
        }
        if let Some((ws, we)) = pending_space.take() {
            // Spaces separate English words but not the groups of a long number.
            let word = |x: char| x.is_ascii_alphanumeric();
            if last.is_some_and(|l| word(l) && !(l.is_ascii_digit() && c.is_ascii_digit()))
                && word(c)
            {
                flush(out, input, &mut run, s);
                push(out, ' ', ws, we);
                last = Some(' ');
            }
        }
        if opts.repeats && last == Some(c) && (is_cjk(c) || is_clause_break(c)) {
            flush(out, input, &mut run, s);
            if let Some(m) = out.map.last_mut() {
                m.2 = e as u32;
            }
            continue;
        }
        emit(out, input, &mut run, c, raw, s, e);
        last = Some(c);
    }
    flush(out, input, &mut run, input.len());
}

/// Emits `c` for the original `raw` at `s..e`: an unchanged character joins the current copy run.
#[inline(always)]
fn emit(
    out: &mut Normalized,
    input: &str,
    run: &mut Option<usize>,
    c: char,
    raw: char,
    s: usize,
    e: usize,
) {
    if c == raw {
        let start = *run.get_or_insert(s);
        out.map
            .push(((out.text.len() + s - start) as u32, s as u32, e as u32));
    } else {
        flush(out, input, run, s);
        push(out, c, s, e);
    }
}

/// Copies the pending run of unchanged characters, which ends at `end`.
#[inline(always)]
fn flush(out: &mut Normalized, input: &str, run: &mut Option<usize>, end: usize) {
    if let Some(start) = run.take() {
        out.text.push_str(&input[start..end]);
    }
}

#[inline(always)]
fn push(out: &mut Normalized, c: char, start: usize, end: usize) {
    out.map
        .push((out.text.len() as u32, start as u32, end as u32));
    out.text.push(c);
}

/// Width, case and script folding of one character.
#[inline]
fn fold(c: char, opts: &Options) -> char {
    // Fast paths: ASCII and the CJK ideograph blocks are nearly all of the text.
    if c.is_ascii() {
        return if opts.case { c.to_ascii_lowercase() } else { c };
    }
    if is_cjk(c) {
        return if opts.traditional {
            t2s::to_simplified(c)
        } else {
            c
        };
    }
    let mut c = c;
    if opts.width {
        c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        };
    }
    if opts.case {
        if c.is_ascii() {
            c = c.to_ascii_lowercase();
        } else if c.is_uppercase() {
            let mut lower = c.to_lowercase();
            if let (Some(l), None) = (lower.next(), lower.next()) {
                c = l;
            }
        }
    }
    if opts.traditional {
        c = t2s::to_simplified(c);
    }
    c
}

/// Whether the full stop at `s..e` separates single CJK characters (不.知.道): inserted noise, not the end of
/// a sentence (好的.谢谢 keeps its stop).
fn dotted_single_chars(input: &str, s: usize, e: usize) -> bool {
    let is_dot = |c: char| c == '.' || c == '．';
    let mut back = input[..s].chars().rev();
    let mut ahead = input[e..].chars();
    let (b1, b2, a1, a2) = (back.next(), back.next(), ahead.next(), ahead.next());
    let cjk = |c: Option<char>| c.is_some_and(is_cjk);
    cjk(b1) && cjk(a1) && (b2.is_some_and(is_dot) || a2.is_some_and(is_dot))
}

/// Multi-character forms written one way and matched another: number forms and regional variants that a
/// character table cannot express. Returns the byte length of the form at the start of `s` and its canonical text.
fn form_at(s: &str) -> Option<(usize, &'static str)> {
    const FORMS: &[(&str, &str)] = &[
        ("百分之一百", "100%"),
        ("百分之百", "100%"),
        ("百分百", "100%"),
        ("甚麼", "什么"),
        ("甚么", "什么"),
    ];
    FORMS
        .iter()
        .find(|(form, _)| s.starts_with(form))
        .map(|(form, to)| (form.len(), *to))
}

#[cfg(test)]
mod tests;
