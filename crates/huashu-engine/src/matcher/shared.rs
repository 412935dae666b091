//! Compiled regexes shared by every matcher of the process that holds the same pattern.
//!
//! A regex's compiled forms are the bulk of an engine's memory: the meta regex (NFAs, and the lazy DFA
//! caches of every thread that searched with it) and the dense DFA pair built on first use (up to 128 KiB
//! each way). They depend on the pattern alone, not on the ruleset around it, and a hot reload (or a
//! session's rule switches, `Engine::without_rules`) compiles a ruleset whose regexes are nearly all the same
//! patterns again: interned here, a new engine takes the old one's regexes (and their warm DFAs) instead of
//! building and warming a second copy while the first is still alive, and a pattern's memory goes when the
//! last engine holding it goes (the table holds only weak references).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use regex_automata::dfa::StartKind;
use regex_automata::dfa::dense::{self, DFA};
use regex_automata::dfa::regex::Regex as DenseRegex;
use regex_automata::meta::Regex;

/// Size budget of one dense DFA (each way of a pair, or an anchored forward DFA).
const LIMIT: usize = 128 << 10;

/// One pattern compiled: the meta regex and, built on first use, its dense DFA pair.
#[derive(Debug)]
pub(super) struct SharedRegex {
    pub(super) meta: Regex,
    source: String,
    /// The same pattern as a fully built DFA pair, when small enough: a search is a table walk with no
    /// cache to fetch, where the meta regex spends about 450 instructions per call before it scans a byte.
    /// Built the first time the regex runs (about 1 ms each), so that compiling a ruleset stays fast and
    /// regexes no turn wakes cost nothing.
    dense: OnceLock<Option<DenseRegex>>,
    /// The forward DFA for anchored searches alone (a regex gated on its prefixes is only ever tried where
    /// one starts), built on the first anchored search. Without the unanchored start, a `[^，。…]{0,N}?` gap
    /// is no longer followed from every position at once, so patterns whose pair is over the budget mostly
    /// fit here: their anchored tries walk a table instead of calling the meta regex.
    anchored: OnceLock<Option<DFA<Vec<u32>>>>,
}

impl SharedRegex {
    /// The dense DFA pair, built now if this is the first search of the pattern in the process; None when
    /// the pattern is too large for one or has a feature a DFA cannot take (the meta regex searches alone).
    #[inline]
    pub(super) fn dense(&self) -> Option<&DenseRegex> {
        self.dense.get_or_init(|| dense_dfa(&self.source)).as_ref()
    }

    /// The anchored forward DFA, built now if this is the first anchored search of the pattern; None as for
    /// [`SharedRegex::dense`].
    #[inline]
    pub(super) fn anchored(&self) -> Option<&DFA<Vec<u32>>> {
        self.anchored
            .get_or_init(|| anchored_dfa(&self.source))
            .as_ref()
    }
}

/// `pattern` as a dense DFA pair (forward and reverse) within a size budget, or None (too large, or a
/// feature such as a Unicode word boundary that a DFA cannot take): the meta regex then searches alone.
/// (Sparse DFAs for the larger ones were tried: 3-4 % more instructions than the meta regex.)
fn dense_dfa(pattern: &str) -> Option<DenseRegex> {
    let config = dense::Config::new()
        .dfa_size_limit(Some(LIMIT))
        .determinize_size_limit(Some(LIMIT));
    DenseRegex::builder().dense(config).build(pattern).ok()
}

/// `pattern` as a forward DFA with only the anchored start, within the same budget (the pair's forward DFA
/// is built this way but for both starts, so the two agree on every anchored search: leftmost-first, the
/// same syntax), or None.
fn anchored_dfa(pattern: &str) -> Option<DFA<Vec<u32>>> {
    let config = dense::Config::new()
        .start_kind(StartKind::Anchored)
        .dfa_size_limit(Some(LIMIT))
        .determinize_size_limit(Some(LIMIT));
    dense::Builder::new().configure(config).build(pattern).ok()
}

/// `pattern` with its word boundaries (`\b`, `\B`) and word characters (`\w`, outside a class) made ASCII.
///
/// Why: a rule's Latin words are words of a turn that mixes scripts (请问you好, refund到账), so an English
/// word ends where a Chinese character begins — the bound phrases already have (`av` not in `have`, but in
/// `av女`). Unicode `\b` counts ideographs as word characters, and no DFA can take it: every English rule
/// with one fell back to the meta regex (a lazy DFA behind ~450 instructions of set-up per search) and
/// Unicode `\w` made the DFAs of the others many times larger.
pub(super) fn ascii_words(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    // Depth of character classes (`[a[b]]` nests): inside one, `\b` is a backspace and `\w` stays a class.
    let mut class = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('b' | 'B' | 'w')) if class == 0 => {
                    out.push_str("(?-u:\\");
                    out.push(e);
                    out.push(')');
                }
                Some(e) => {
                    out.push('\\');
                    out.push(e);
                }
                None => out.push('\\'),
            },
            '[' => {
                class += 1;
                out.push(c);
                // A `]` right after `[` or `[^` is a literal, not the class's end.
                if chars.clone().next() == Some('^') {
                    out.push('^');
                    chars.next();
                }
                if chars.clone().next() == Some(']') {
                    out.push(']');
                    chars.next();
                }
            }
            ']' if class > 0 => {
                class -= 1;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Patterns compiled and still held by some matcher.
fn table() -> &'static Mutex<HashMap<String, Weak<SharedRegex>>> {
    static TABLE: OnceLock<Mutex<HashMap<String, Weak<SharedRegex>>>> = OnceLock::new();
    TABLE.get_or_init(Default::default)
}

/// The compiled `pattern`: the one a live matcher already holds, else compiled now; None when it does not
/// compile or is too large (the caller words the error: the regex crate's message is for people).
pub(super) fn regex(pattern: &str) -> Option<Arc<SharedRegex>> {
    // A poisoned table only means a thread panicked while holding it; its entries are still valid weak refs.
    let mut table = table().lock().unwrap_or_else(|p| p.into_inner());
    if let Some(live) = table.get(pattern).and_then(Weak::upgrade) {
        return Some(live);
    }
    // Compiled outside the lock would let two threads compile one pattern twice; compiles are rare (a
    // ruleset load) and the lock is held by nothing on the turn path.
    let source = ascii_words(pattern);
    let compiled = Arc::new(SharedRegex {
        // Without the meta regex's own literal prefilter: a regex is searched only once the automaton has seen
        // its literals, so the prefilter would scan a turn of tens of bytes again for the same words. Off, the
        // English pass takes 2.4 % fewer instructions and 3-5 % more MB/s, Chinese 0.2 % / 1-3 %, and the
        // compiled prefilters' 3-4 MB of memory go (benches/RESULTS.md, "Engine, session 16").
        meta: Regex::builder()
            .configure(Regex::config().auto_prefilter(false))
            .build(&source)
            .ok()?,
        source,
        dense: OnceLock::new(),
        anchored: OnceLock::new(),
    });
    // Entries of patterns no matcher holds any more are dropped as new ones come (misses are few: a
    // reload of an edited ruleset misses only its new patterns).
    table.retain(|_, w| w.strong_count() > 0);
    table.insert(pattern.to_string(), Arc::downgrade(&compiled));
    Some(compiled)
}

/// Patterns the table holds (live or not yet swept), for tests.
#[cfg(test)]
pub(super) fn interned(pattern: &str) -> bool {
    table()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(pattern)
        .is_some_and(|w| w.strong_count() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_compiled_regex_per_pattern_while_held() {
        let p = "(保证|确保)shared-test-一[^。]{0,3}";
        let a = regex(p).expect("compiles");
        let b = regex(p).expect("compiles");
        assert!(Arc::ptr_eq(&a, &b));
        // The dense DFA built through one is the other's.
        let da = a.dense().map(std::ptr::from_ref);
        assert!(da.is_some());
        assert_eq!(da, b.dense().map(std::ptr::from_ref));
        drop((a, b));
        assert!(!interned(p), "freed with its last holder");
        let c = regex(p).expect("compiles again");
        assert!(c.dense.get().is_none(), "a fresh compile, not a stale one");
    }

    #[test]
    fn anchored_searches_agree_with_the_meta_regex_and_build_no_pair() {
        use regex_automata::dfa::Automaton;
        use regex_automata::{Anchored, Input};
        // Anchored alone its DFA is about 105 KiB; with the unanchored start as well, about 325 KiB.
        let p =
            "(?P<hit>(肯定|一定|保证)(能|会)?[^,.!?;:、。…\n]{0,4}?(送到|到货|到))anchored-test";
        let r = regex(p).expect("compiles");
        let dfa = r.anchored().expect("fits the budget");
        for text in [
            "一定能送到anchored-test",
            "保证明天下午送到货了anchored-test",
            "肯定,送到anchored-test",
            "一定到anchored-testanchored-test",
            "好的一定送到anchored-test",
            "",
        ] {
            for at in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
                let input = Input::new(text).range(at..).anchored(Anchored::Yes);
                let by_dfa = dfa
                    .try_search_fwd(&input)
                    .expect("no quit bytes")
                    .map(|m| at..m.offset());
                let by_meta = r.meta.search(&input).map(|m| m.range());
                assert_eq!(by_dfa, by_meta, "{text:?} at {at}");
            }
        }
        assert!(r.dense.get().is_none(), "anchored tries build no pair");
        assert!(r.dense().is_none(), "the pair is over the budget");
    }

    #[test]
    fn word_boundaries_and_word_characters_are_ascii() {
        assert_eq!(ascii_words(r"\bno\b"), r"(?-u:\b)no(?-u:\b)");
        assert_eq!(ascii_words(r"(?:\w+ )?\Bx"), r"(?:(?-u:\w)+ )?(?-u:\B)x");
        // Escapes that are no word class, and classes, are left as written.
        assert_eq!(
            ascii_words(r"\\b[\w\b]\d[]\w]\w"),
            r"\\b[\w\b]\d[]\w](?-u:\w)"
        );
        assert_eq!(ascii_words(r"[^]a]\w"), r"[^]a](?-u:\w)");
        let r = regex(r"\byou\b").expect("compiles");
        assert!(r.dense().is_some(), "an ASCII word boundary fits a DFA");
        for (text, found) in [
            ("请问you好", true),
            ("you", true),
            ("your", false),
            ("thank-you!", true),
            ("éyou", true),
            ("4you", false),
        ] {
            assert_eq!(r.meta.is_match(text), found, "{text}");
        }
    }

    #[test]
    fn a_bad_pattern_is_an_error_and_not_interned() {
        assert!(regex("(unclosed-shared-test").is_none());
        assert!(!interned("(unclosed-shared-test"));
    }
}
