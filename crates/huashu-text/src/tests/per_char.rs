//! The alignment as it was first written, one entry per normalised character: the oracle the segment
//! alignment must agree with.

use std::ops::Range;

use crate::fold::separated_single_chars;
use crate::*;

/// A normalised text and, for each of its characters, where it came from in the original.
#[derive(Debug, Default)]
pub struct Normalized {
    text: String,
    /// One entry per normalised char: (byte offset in `text`, original start, original end).
    map: Vec<(u32, u32, u32)>,
}

impl Normalized {
    pub fn as_str(&self) -> &str {
        &self.text
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
    // A spelled-out word being read: where it ends and the mark dropped between its letters.
    let mut spelled: Option<(usize, u8)> = None;
    for (s, raw) in input.char_indices() {
        if s < skip_to {
            continue;
        }
        let e = s + raw.len_utf8();
        if is_cjk(raw) {
            if let Some((ws, we)) = pending_space {
                if opts.sentence_spaces
                    && last.is_some_and(is_cjk)
                    && crate::fold::space_ends_clause(input, ws, s, opts.numbers, table)
                {
                    flush(out, input, &mut run, s);
                    push(out, ',', ws, we);
                    last = Some(',');
                }
            }
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
            let mut c = table.map_or(raw, |t| t.get(raw));
            pending_space = None;
            if opts.numbers {
                flush(out, input, &mut run, s);
                if let Some(d) = numeral_in_run(input, e, c, digits_before(out), table) {
                    push(out, d, s, e);
                    last = Some(d);
                    continue;
                }
            }
            if table.is_some() {
                if let Some(r) = t2s::resolve(input, s, e, raw) {
                    c = r;
                }
            }
            if opts.pronouns {
                c = crate::chars::pronoun(c);
            }
            if opts.repeats && last == Some(c) {
                extend_last(out, input, &mut run, s, e);
                continue;
            }
            emit(out, input, &mut run, c, raw, s, e);
            last = Some(c);
            continue;
        }
        if let Some((end, gap)) = spelled {
            if s >= end {
                spelled = None;
            } else if raw as u32 == u32::from(gap) {
                flush(out, input, &mut run, s);
                continue;
            }
        }
        if opts.spelling {
            if let Some(c) = spelling::leet_at(input.as_bytes(), s) {
                flush(out, input, &mut run, s);
                pending_space = None;
                push(out, c, s, e);
                last = Some(c);
                continue;
            }
            if spelled.is_none() && raw.is_ascii_alphabetic() {
                spelled = spelling::spelled_out_at(input.as_bytes(), s);
            }
        }
        let c = fold(raw, opts);
        let c = if opts.noise && crate::chars::is_dash(c) {
            crate::dash(input, last, e)
        } else {
            c
        };
        if opts.noise
            && is_clause_break(c)
            && last.is_some_and(is_cjk)
            && separated_single_chars(input, s, e, c)
        {
            flush(out, input, &mut run, s);
            continue;
        }
        if opts.numbers && c == '〇' {
            flush(out, input, &mut run, s);
            if let Some(d) = numeral_in_run(input, e, c, digits_before(out), table) {
                pending_space = None;
                push(out, d, s, e);
                last = Some(d);
                continue;
            }
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
            extend_last(out, input, &mut run, s, e);
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

/// The run of ASCII digits the text written so far ends with (a numeral may continue it).
fn digits_before(out: &Normalized) -> usize {
    out.text
        .bytes()
        .rev()
        .take_while(u8::is_ascii_digit)
        .count()
}

/// A repeat of the last written char at original `s..e`: that char's span reaches over it.
fn extend_last(out: &mut Normalized, input: &str, run: &mut Option<usize>, s: usize, e: usize) {
    flush(out, input, run, s);
    if let Some(m) = out.map.last_mut() {
        m.2 = e as u32;
    }
}
