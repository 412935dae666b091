//! Context conditions: what around a hit makes it compliant after all (polite 不知道您…, negated 不能保证收益,
//! a refusal that comes with a reason). They run only on hits, never on the whole turn.

use std::ops::Range;

use daachorse::{DoubleArrayAhoCorasick, DoubleArrayAhoCorasickBuilder};
use huashu_rules::Rule;
use huashu_text::{is_cjk, is_clause_break, is_sentence_break};

use crate::error::EngineError;

#[derive(Debug, Default)]
pub(crate) struct Context {
    followed_by: Affixes,
    preceded_by: Affixes,
    before: Words,
    before_window: usize,
    after: Words,
    after_window: usize,
    sentence_has: Words,
    turn_has: Words,
    hit_has: Words,
    only_if_sentence_has: Words,
    /// Conditions on the other party's previous turn (see [`Previous`]).
    previous: Previous,
}

/// What the other party's previous turn must (or must not) contain for a hit to stand: the customer's
/// question is what turns 可以的 into a safety promise. The `exchange` lists look in that turn and in this
/// party's own turn that it answered (the code named in the agent's question, 这边发送验证码…可以吗 → 可以).
/// Searched only on a hit, and only for the rules that ask ([`Context::wants_previous`]).
#[derive(Debug, Default)]
struct Previous {
    only_if: Words,
    unless: Words,
    exchange_only_if: Words,
    exchange_unless: Words,
}

/// The last exchange before a turn, normalised: the other party's previous turn and this party's own turn
/// that it answered (None where there is none, or the caller gave none).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Exchange<'a> {
    pub(crate) previous: Option<&'a str>,
    pub(crate) own: Option<&'a str>,
}

/// A context word list, searched in one pass: these lists run to dozens of words and are asked about on
/// every hit, so one automaton beats a substring search per word. The automaton steps by byte: a
/// char-wise one maps every character up to the highest in its words through a table of its own (160 KiB
/// for a list with a CJK word), and zh-CN's rules have some 175 such lists: about 27 MiB of tables per
/// engine (heaptrack), most of its memory, for regions of a clause or two that are searched only on hits.
#[derive(Default)]
struct Words {
    words: Vec<String>,
    automaton: Option<DoubleArrayAhoCorasick<u32>>,
    /// Per word, which of its ends are word boundaries ([`edges`]).
    edges: Vec<u8>,
    /// Some word has a Latin or digit end: matches are checked at word boundaries.
    bounded: bool,
    /// An exemption list: a word right after a negation does not count (不可以 is no 可以, 不需要 no 需要;
    /// 没法帮您问 is no next step of the agent's).
    exempting: bool,
}

/// Words that must not come right after (or right before) a hit. Each is kept with the character it
/// starts (or ends) with: the hit's neighbouring character picks the few words worth comparing, instead of
/// a comparison per word on every hit. The word's far end keeps the boundaries of [`edges`] (a preceding
/// `not` is not the end of `cannot`); its near end touches the hit and may continue it (`d` after
/// `guarantee`).
#[derive(Debug, Default)]
struct Affixes {
    words: Vec<(char, String, u8)>,
}

impl Affixes {
    fn new(words: Vec<String>, at_end: bool) -> Affixes {
        let words = words
            .into_iter()
            .filter_map(|w| {
                let c = if at_end {
                    w.chars().next_back()
                } else {
                    w.chars().next()
                };
                // Only the far end is a boundary: the end after a following word, the start of a preceding one.
                let far = edges(&w) & if at_end { START } else { END };
                c.map(|c| (c, w, far))
            })
            .collect();
        Affixes { words }
    }

    /// The word `t[at..]` starts with, if one of them.
    fn starting(&self, t: &str, at: usize) -> Option<Range<usize>> {
        let after = &t[at..];
        let c = after.chars().next()?;
        self.words.iter().find_map(|(first, w, far)| {
            (*first == c && after.starts_with(w.as_str()) && at_word(t, at, at + w.len(), *far))
                .then(|| at..at + w.len())
        })
    }

    /// The word `t[..at]` ends with, if one of them.
    fn ending(&self, t: &str, at: usize) -> Option<Range<usize>> {
        let before = &t[..at];
        let c = before.chars().next_back()?;
        self.words.iter().find_map(|(last, w, far)| {
            (*last == c && before.ends_with(w.as_str()) && at_word(t, at - w.len(), at, *far))
                .then(|| at - w.len()..at)
        })
    }
}

/// Which ends of a context word are word boundaries. A word that begins with a Latin letter starts a word
/// of the text (`he` is not in `the`, `if` not in `verify`, `not` not in `another`, `fund` not in
/// `refund`), and one that begins or ends with a digit does not run into other digits (`7天` is not in
/// `17天`). A Latin word's end may run on, as a stem: `invest` takes `investment`, `courier` `couriers`,
/// `if you` `if youve` — the rules list a word's forms by its stem. Ideographs have no boundaries.
const START_LETTER: u8 = 1;
const START_DIGIT: u8 = 2;
const END_DIGIT: u8 = 8;
const START: u8 = START_LETTER | START_DIGIT;
const END: u8 = END_DIGIT;

fn edges(w: &str) -> u8 {
    let class = |c: Option<char>, letter: u8, digit: u8| match c {
        Some(c) if c.is_ascii_alphabetic() => letter,
        Some(c) if c.is_ascii_digit() => digit,
        _ => 0,
    };
    class(w.chars().next(), START_LETTER, START_DIGIT) | class(w.chars().next_back(), 0, END_DIGIT)
}

/// Whether `t[start..end]` stands at the word boundaries `b` asks for.
fn at_word(t: &str, start: usize, end: usize, b: u8) -> bool {
    if b == 0 {
        return true;
    }
    let before = t.as_bytes()[..start].last().copied().unwrap_or(b' ');
    let after = t.as_bytes().get(end).copied().unwrap_or(b' ');
    !(b & START_LETTER != 0 && before.is_ascii_alphabetic()
        || b & START_DIGIT != 0 && before.is_ascii_digit()
        || b & END_DIGIT != 0 && after.is_ascii_digit())
}

impl Words {
    fn new(mut words: Vec<String>) -> Words {
        let spoken: Vec<String> = words.iter().flat_map(|w| with_place(w)).collect();
        words.extend(spoken);
        words.sort();
        words.dedup();
        // Every list gets an automaton, even of one word: a substring search builds its two-way searcher on
        // every call (`StrSearcher::new`, ~400 instructions for a CJK word), which cost more than a byte walk
        // over a clause. A searched region is a clause or two: too short for the q-gram prefilter to pay.
        let automaton = (!words.is_empty())
            .then(|| {
                DoubleArrayAhoCorasickBuilder::new()
                    .use_prefilter(false)
                    .build(&words)
                    .ok()
            })
            .flatten();
        let edges: Vec<u8> = words.iter().map(|w| edges(w)).collect();
        let bounded = edges.iter().any(|&b| b != 0);
        Words {
            words,
            automaton,
            edges,
            bounded,
            exempting: false,
        }
    }

    /// An exemption list (`unless_…`): a reason or a next step that 不 negates is none.
    fn exempting(words: Vec<String>) -> Words {
        Words {
            exempting: true,
            ..Words::new(words)
        }
    }

    fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Whether one of the words occurs in `t[region]` as a word (its Latin or digit ends at boundaries of
    /// `t`, not of the region: a window that starts inside "the" does not make "he" a word).
    fn found_in(&self, t: &str, region: Range<usize>) -> bool {
        self.found_at(t, region).is_some()
    }

    /// Where in `t` the first word [`Words::found_in`] counts lies.
    fn found_at(&self, t: &str, region: Range<usize>) -> Option<Range<usize>> {
        let text = &t[region.clone()];
        if text.is_empty() || self.words.is_empty() {
            return None;
        }
        let at = |start: usize, end: usize| region.start + start..region.start + end;
        if !self.bounded && !self.exempting {
            return match &self.automaton {
                Some(a) => a.find_iter(text).next().map(|m| at(m.start(), m.end())),
                None => self
                    .words
                    .iter()
                    .find_map(|w| text.find(w.as_str()).map(|s| at(s, s + w.len()))),
            };
        }
        let counts = |i: usize, start: usize, end: usize| {
            let (start, end) = (region.start + start, region.start + end);
            !(self.exempting
                && (negated(&t[..start])
                    || unable_after(&t[end..], &self.words[i])
                    || spoken_to(&t[..start], &self.words[i])))
                && (!self.bounded || at_word(t, start, end, self.edges[i]))
        };
        match &self.automaton {
            Some(a) => a
                .find_overlapping_iter(text)
                .find(|m| counts(m.value() as usize, m.start(), m.end()))
                .map(|m| at(m.start(), m.end())),
            None => self.words.iter().enumerate().find_map(|(i, w)| {
                text.match_indices(w.as_str())
                    .find(|(s, m)| counts(i, *s, s + m.len()))
                    .map(|(s, m)| at(s, s + m.len()))
            }),
        }
    }

    /// As [`Words::found_in`] over the whole of `t`.
    fn found_in_all(&self, t: &str) -> bool {
        self.found_in(t, 0..t.len())
    }
}

/// A word the agent says of itself (我看看, 我们会) also said with the place agents name themselves by: 我这边看看,
/// 我这里看看, 我们这边会. Chat agents write both, and every list means the one as much as the other.
fn with_place(word: &str) -> Vec<String> {
    let (me, rest) = match word.strip_prefix("我们") {
        Some(rest) => ("我们", rest),
        None => match word.strip_prefix('我') {
            Some(rest) => ("我", rest),
            None => return Vec::new(),
        },
    };
    if rest.is_empty()
        || rest.starts_with("这边")
        || rest.starts_with("这里")
        || rest.starts_with('们')
    {
        return Vec::new();
    }
    ["这边", "这里"]
        .iter()
        .map(|place| format!("{me}{place}{rest}"))
        .collect()
}

impl std::fmt::Debug for Words {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(&self.words).finish()
    }
}

impl Context {
    pub(crate) fn compile(
        rule: &Rule,
        norm: &dyn Fn(&str) -> String,
    ) -> Result<Context, EngineError> {
        let m = &rule.matcher;
        let list = |words: &[String]| -> Result<Vec<String>, EngineError> {
            words
                .iter()
                .map(|w| {
                    let n = norm(w);
                    if n.is_empty() {
                        Err(EngineError::unreachable(rule, w))
                    } else {
                        Ok(n)
                    }
                })
                .collect()
        };
        Ok(Context {
            followed_by: Affixes::new(list(&m.unless_followed_by)?, false),
            preceded_by: Affixes::new(list(&m.unless_preceded_by)?, true),
            before: Words::exempting(list(&m.unless_before)?),
            before_window: m.before_window,
            after: Words::exempting(list(&m.unless_after)?),
            after_window: m.after_window,
            sentence_has: Words::exempting(list(&m.unless_sentence_has)?),
            turn_has: Words::exempting(list(&m.unless_turn_has)?),
            hit_has: Words::exempting(list(&m.unless_hit_has)?),
            only_if_sentence_has: Words::new(list(&m.only_if_sentence_has)?),
            previous: Previous {
                only_if: Words::new(list(&m.only_after_turn_has)?),
                unless: Words::new(list(&m.unless_after_turn_has)?),
                exchange_only_if: Words::new(list(&m.only_after_exchange_has)?),
                exchange_unless: Words::new(list(&m.unless_after_exchange_has)?),
            },
        })
    }

    /// Whether the rule looks at the other party's previous turn (or the last exchange).
    pub(crate) fn wants_previous(&self) -> bool {
        let p = &self.previous;
        !p.only_if.is_empty()
            || !p.unless.is_empty()
            || !p.exchange_only_if.is_empty()
            || !p.exchange_unless.is_empty()
    }

    /// Whether the last exchange (normalised; parts the caller has not are None) lets this rule's hits
    /// stand. A rule that needs a word in the previous turn (or the exchange) never fires without a previous
    /// turn; one that is only exempted by a word there fires as it would alone. The agent's own turn counts
    /// only as the question the previous turn answered, so without a previous turn there is no exchange.
    pub(crate) fn allows_previous(&self, before: Exchange<'_>) -> bool {
        self.previous_block(before).is_none()
    }

    /// The condition on the last exchange that drops this rule's hits, if one does (what
    /// [`Context::allows_previous`] asks), named as rule files name it.
    pub(crate) fn previous_block(&self, before: Exchange<'_>) -> Option<&'static str> {
        let Previous {
            only_if,
            unless,
            exchange_only_if,
            exchange_unless,
        } = &self.previous;
        let Some(p) = before.previous else {
            return if !only_if.is_empty() {
                Some("only_after_turn_has")
            } else if !exchange_only_if.is_empty() {
                Some("only_after_exchange_has")
            } else {
                None
            };
        };
        let own = before.own.unwrap_or("");
        let in_exchange = |w: &Words| w.found_in_all(p) || w.found_in_all(own);
        if !(only_if.is_empty() || only_if.found_in_all(p)) {
            Some("only_after_turn_has")
        } else if unless.found_in_all(p) {
            Some("unless_after_turn_has")
        } else if !(exchange_only_if.is_empty() || in_exchange(exchange_only_if)) {
            Some("only_after_exchange_has")
        } else if in_exchange(exchange_unless) {
            Some("unless_after_exchange_has")
        } else {
            None
        }
    }

    /// The first condition that drops the hit `t[start..end]`, if one does: None when the hit stands.
    pub(crate) fn block(&self, t: &str, start: usize, end: usize) -> Option<Block> {
        let (before, after) = (&t[..start], &t[end..]);
        if let Some(w) = self.followed_by.starting(t, end) {
            return Some(Block::new("unless_followed_by", w));
        }
        if let Some(w) = self.preceded_by.ending(t, start) {
            return Some(Block::new("unless_preceded_by", w));
        }
        // Regions are ranges of `t`, so that a word's boundaries are judged against the whole turn.
        let tail = |s: &str| start - s.len()..start;
        let head = |s: &str| end..end + s.len();
        if !self.before.is_empty() {
            let region = tail(clause_tail(before, self.before_window));
            if let Some(w) = self.before.found_at(t, region) {
                return Some(Block::new("unless_before", w));
            }
        }
        if !self.after.is_empty() {
            let region = head(clause_head(after, self.after_window));
            if let Some(w) = self.after.found_at(t, region) {
                return Some(Block::new("unless_after", w));
            }
        }
        if !self.sentence_has.is_empty() || !self.only_if_sentence_has.is_empty() {
            let (pre, post) = (tail(sentence_tail(before)), head(sentence_head(after)));
            let has = |words: &Words| {
                words
                    .found_at(t, pre.clone())
                    .or_else(|| words.found_at(t, post.clone()))
            };
            if let Some(w) = has(&self.sentence_has) {
                return Some(Block::new("unless_sentence_has", w));
            }
            if !self.only_if_sentence_has.is_empty() && has(&self.only_if_sentence_has).is_none() {
                return Some(Block {
                    condition: "only_if_sentence_has",
                    word: None,
                });
            }
        }
        if let Some(w) = self.hit_has.found_at(t, start..end) {
            return Some(Block::new("unless_hit_has", w));
        }
        let in_turn = self
            .turn_has
            .found_at(t, 0..start)
            .or_else(|| self.turn_has.found_at(t, end..t.len()));
        in_turn.map(|w| Block::new("unless_turn_has", w))
    }
}

impl Context {
    /// Whether `unless_turn_has` drops every hit that lies within `start..end` of `t`: one of its words lies
    /// outside that range, so outside any hit in it (a word found in a region is found in any region holding
    /// it). Lets the scan skip reading a hit off a match whose context drops it anyway.
    pub(crate) fn turn_has_outside(&self, t: &str, start: usize, end: usize) -> bool {
        self.turn_has.found_at(t, 0..start).is_some()
            || self.turn_has.found_at(t, end..t.len()).is_some()
    }
}

/// What drops a hit: the condition as rule files name it, and the byte range of the normalised turn that met
/// it (None for a word the rule needs and the sentence lacks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Block {
    pub(crate) condition: &'static str,
    pub(crate) word: Option<Range<usize>>,
}

impl Block {
    fn new(condition: &'static str, word: Range<usize>) -> Block {
        Block {
            condition,
            word: Some(word),
        }
    }
}

/// Whether `c` at byte `i` of `s` ends a clause (or a sentence, with `is_sentence_break`): a full stop
/// between two digits is a decimal point (12.5%), not the end of anything.
#[inline(always)]
fn is_break_at(s: &str, i: usize, c: char, kind: impl Fn(char) -> bool) -> bool {
    // Ideographs, the bulk of a turn, are never breaks: one comparison instead of a table of marks.
    if ('\u{3400}'..='\u{9FFF}').contains(&c) || !kind(c) {
        return false;
    }
    if c != '.' {
        return true;
    }
    let digit_before = s.as_bytes()[..i].last().is_some_and(u8::is_ascii_digit);
    let digit_after = s.as_bytes().get(i + 1).is_some_and(u8::is_ascii_digit);
    !(digit_before && digit_after)
}

/// The end of `before` back to the last clause break, at most `window` chars.
fn clause_tail(before: &str, window: usize) -> &str {
    let mut start = before.len();
    for (n, (i, c)) in before.char_indices().rev().enumerate() {
        if n >= window || is_break_at(before, i, c, is_clause_break) {
            break;
        }
        start = i;
    }
    &before[start..]
}

/// The start of `after` up to the next clause break, at most `window` chars.
fn clause_head(after: &str, window: usize) -> &str {
    let mut end = 0;
    for (n, (i, c)) in after.char_indices().enumerate() {
        if n >= window || is_break_at(after, i, c, is_clause_break) {
            break;
        }
        end = i + c.len_utf8();
    }
    &after[..end]
}

fn sentence_tail(before: &str) -> &str {
    match before
        .char_indices()
        .rev()
        .find(|&(i, c)| is_break_at(before, i, c, is_sentence_break))
    {
        Some((i, c)) => &before[i + c.len_utf8()..],
        None => before,
    }
}

/// The start of `after` up to the end of its sentence, the closing mark included: `unless_sentence_has =
/// ["?"]` exempts a hit in a question (the mark is the only sign of one in "Is the claim as good as approved?").
fn sentence_head(after: &str) -> &str {
    match after
        .char_indices()
        .find(|&(i, c)| is_break_at(after, i, c, is_sentence_break))
    {
        Some((i, c)) => &after[..i + c.len_utf8()],
        None => after,
    }
}

/// Whether `head` (the text before an exemption word) ends with a negation that takes the word's meaning
/// away: 不 (不可以, 不需要), or an inability (没法/无法/不能/没办法 + 帮您问).
fn negated(head: &str) -> bool {
    head.ends_with('不') || UNABLE.iter().any(|n| head.ends_with(n))
}

/// The words of an inability (没法/无法/不能/没办法 + a verb).
const UNABLE: [&str; 4] = ["没法", "无法", "不能", "没办法"];

/// Whether `tail` (the text after an exemption word) says the step cannot be done: 不 + a potential
/// complement (我看不出来, 我查不到, 我问不了) is an inability, not the agent's next step. After the agent named
/// alone (我, 我们, 这边, 小妹), its predicate is read past where it is (这边/这里), an adverb (也, 实在…) and a
/// verb of up to two characters: 我这边弄不了 and 我们也处理不了 say what the agent cannot do, not what it will.
fn unable_after(tail: &str, word: &str) -> bool {
    if potential(tail) {
        return true;
    }
    if !AGENT.contains(&word) {
        return false;
    }
    // 我 is found in 我们 too.
    let tail = tail.strip_prefix('们').unwrap_or(tail);
    let tail = ["这边", "这里"]
        .iter()
        .find_map(|p| tail.strip_prefix(p))
        .unwrap_or(tail);
    let tail = ["也", "都", "实在", "确实", "真的", "暂时", "目前"]
        .iter()
        .find_map(|p| tail.strip_prefix(p))
        .unwrap_or(tail);
    let mut rest = tail;
    for _ in 0..3 {
        if potential(rest) || UNABLE.iter().any(|n| rest.starts_with(n)) {
            return true;
        }
        let mut chars = rest.chars();
        match chars.next() {
            Some(c) if c != '不' && is_cjk(c) => rest = chars.as_str(),
            _ => return false,
        }
    }
    false
}

/// The agent named alone, as exemption words name it (the subject of a step it takes).
const AGENT: [&str; 7] = ["我", "我们", "这边", "我这边", "我们这边", "小妹", "本人"];

/// 不 + a potential complement at the start of `s` (不出, 不到, 不了…).
fn potential(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next() == Some('不')
        && chars
            .next()
            .is_some_and(|c| "出到了见懂清明着准动".contains(c))
}

/// Whether a restating exemption word (您说, 您提到) has the customer as the object of what comes before it
/// (跟您说了, 和您提到过): then the agent is the one speaking, and nothing is restated.
fn spoken_to(head: &str, word: &str) -> bool {
    const TO: [char; 7] = ['跟', '和', '给', '对', '向', '同', '与'];
    // Only words that restate: 给您 before an exemption like 您 or 您这边 is the agent's own step (给您登记).
    const RESTATING: [&str; 13] = [
        "您说",
        "您讲",
        "您提到",
        "您刚才说",
        "您刚刚说",
        "您之前说",
        "您是说",
        "您的意思",
        "您反馈的",
        "您反映的",
        "您指的",
        "您是指",
        "您描述",
    ];
    RESTATING.iter().any(|r| word.starts_with(r))
        && head.chars().next_back().is_some_and(|c| TO.contains(&c))
}

#[cfg(test)]
mod tests;
