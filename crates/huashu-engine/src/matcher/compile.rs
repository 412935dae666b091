//! Compiling a rule set into a [`Matcher`]: every phrase, regex anchor and allow-list word into one
//! automaton, each regex with the literal gate that decides when it runs, each rule's context and finding
//! template. Kept apart from the scan so that what a turn costs can be read without the set-up.

use std::collections::HashMap;
use std::sync::Arc;

use huashu_rules::{RoleScope, Rule, Ruleset};
use huashu_text::{Options, normalize};

use super::Matcher;
use super::automaton::Automaton;
use super::findings::Template;
use super::shared::{self, SharedRegex};
use super::signature::WeakSet;
use crate::anchors::{Window, gate, hit_is_whole};
use crate::asr::TolerantPhrases;
use crate::context::Context;
use crate::error::EngineError;

#[derive(Debug)]
pub(super) struct CompiledRule {
    pub(super) context: Context,
    /// The rule's role scope, kept here so the per-hit test does not reach into the (large) rule.
    pub(super) role: RoleScope,
    /// What a hit of the rule becomes: id, message parts, suggestions (see [`Template`]).
    pub(super) template: Template,
    /// The rule fires only after certain words in the last exchange (see [`needs_previous`]).
    pub(super) needs_previous: bool,
}

/// Whether `rule` fires only after certain words in the last exchange: without a previous turn holding
/// them, every hit of it is dropped, so the scan neither searches its regexes nor keeps its phrase hits.
fn needs_previous(rule: &Rule) -> bool {
    !rule.matcher.only_after_turn_has.is_empty() || !rule.matcher.only_after_exchange_has.is_empty()
}

#[derive(Debug, Default)]
pub(super) struct Owner {
    pub(super) rules: Vec<u32>,
    /// Rules whose phrase was written with a doubled character (拜拜 → 拜): each with the offsets, in the
    /// phrase, of the characters the text must have repeated too.
    pub(super) repeated: Vec<(u32, Box<[u32]>)>,
    /// Word boundaries the phrase needs (`BOUND_*`): one that begins or ends with an ASCII letter or digit
    /// matches only where the text does not go on with a letter (or digit) there (`av` not in `have`).
    pub(super) bounds: u8,
    /// Regexes this literal anchors, as [`Anchor`]s: where they start in `Matcher::anchors`, and how many.
    pub(super) anchors: (u32, u32),
    /// The pattern is an allow-list phrase of the ruleset.
    pub(super) allow: bool,
}

/// A regex a literal anchors, packed in a `u32`: the regex's index, the bit of its literal set the literal
/// belongs to, and whether the regex needs to know where the literal was seen (its prefix or window set).
/// The automaton pass reads these from one flat array instead of from each regex, which would cost a
/// cache miss per literal seen.
#[derive(Debug, Clone, Copy)]
pub(super) struct Anchor(u32);

impl Anchor {
    const PREFIX: u32 = 0x80;
    const WINDOW: u32 = 0x40;

    fn new(regex: u32, bit: u8, prefix: bool, window: bool) -> Anchor {
        debug_assert!(bit < 0x40);
        let flags = if prefix { Self::PREFIX } else { 0 } | if window { Self::WINDOW } else { 0 };
        Anchor(regex << 8 | u32::from(bit) | flags)
    }

    #[inline]
    pub(super) fn regex(self) -> u32 {
        self.0 >> 8
    }

    #[inline]
    pub(super) fn bit(self) -> u8 {
        (self.0 & 0x3f) as u8
    }

    /// The literal is one of the regex's prefixes: the regex is tried anchored where it starts.
    #[inline]
    pub(super) fn prefix(self) -> bool {
        self.0 & Self::PREFIX != 0
    }

    /// The literal is of the regex's window set: where it lies bounds the search.
    #[inline]
    pub(super) fn window(self) -> bool {
        self.0 & Self::WINDOW != 0
    }
}

/// The automaton's value for a pattern. Most patterns are regex anchors and nothing else (10,035 of
/// zh-CN's 10,424): their value is the range of their anchors in `Matcher::anchors`, so that seeing one
/// touches no [`Owner`] — or, when the pattern anchors one regex only (most do), that [`Anchor`] itself
/// ([`PatternValue::ONE`]), so that seeing it does not read `Matcher::anchors` either (a cache miss per
/// literal seen, in an array of tens of thousands). A phrase, a pattern with an owner rule, an allow-list word
/// has [`PatternValue::OWNER`] set and the index of its `Owner`.
pub(super) struct PatternValue;

impl PatternValue {
    pub(super) const OWNER: u32 = 1 << 31;
    /// The value is the pattern's one [`Anchor`] (with this bit cleared).
    pub(super) const ONE: u32 = 1 << 30;
    /// Bits of an anchor range's start; the length takes the 10 bits above.
    const START_BITS: u32 = 20;

    /// The value of pattern `i`, owned by `owner`, whose anchors are `anchors[owner.anchors]`.
    fn of(i: usize, owner: &Owner, anchors: &[Anchor]) -> u32 {
        let (start, len) = owner.anchors;
        let plain = owner.rules.is_empty() && owner.repeated.is_empty() && !owner.allow;
        if plain && len == 1 && anchors[start as usize].0 < Self::ONE {
            Self::ONE | anchors[start as usize].0
        } else if plain && start < 1 << Self::START_BITS && len < 1 << (30 - Self::START_BITS) {
            start | len << Self::START_BITS
        } else {
            Self::OWNER | i as u32
        }
    }

    /// The anchor range of a value with neither [`PatternValue::OWNER`] nor [`PatternValue::ONE`].
    #[inline]
    pub(super) fn anchors(v: u32) -> (usize, usize) {
        (
            (v & ((1 << Self::START_BITS) - 1)) as usize,
            (v >> Self::START_BITS) as usize,
        )
    }

    /// The one anchor of a value with [`PatternValue::ONE`].
    #[inline]
    pub(super) fn one(v: u32) -> Anchor {
        Anchor(v & !Self::ONE)
    }
}

#[derive(Debug)]
pub(super) struct CompiledRegex {
    pub(super) rule: u32,
    /// The rule's role scope, copied here: the regex loop reads it for every regex a turn wakes, and the
    /// compiled rule is large (a cache line of its own).
    pub(super) role: RoleScope,
    /// The compiled pattern, shared with every other matcher of the process that has it (`shared.rs`).
    pub(super) regex: Arc<SharedRegex>,
    /// The `hit` group, the part of a match to report, unless it is the whole match.
    pub(super) hit_group: Option<usize>,
    /// One bit per literal set of the regex's gate: the regex runs once every bit has been seen.
    pub(super) need: u8,
    /// Consecutive ASCII digits every match holds.
    pub(super) digits: usize,
    /// The bit of the literal set every match starts with (0 if none): the regex is then tried anchored at
    /// each place such a literal was seen, rather than searched for across the turn.
    pub(super) prefix_bit: u8,
    /// Otherwise, the bit of a literal set around which matches lie, and the characters a match can hold
    /// before and after that literal: the regex searches only that window of the turn.
    pub(super) window: Option<(u8, Window)>,
    /// Some match is empty: an empty range is still worth a search.
    pub(super) matches_empty: bool,
    /// Every match starts where the turn does (`Gate::start_anchored`).
    pub(super) start_anchored: bool,
    /// The gate's weak sets (`Gate::weak`): the regex runs only if the turn's signature may hold one
    /// literal of each.
    pub(super) weak: Box<[WeakSet]>,
    /// The rule fires only after certain words in the last exchange (`only_after_turn_has`,
    /// `only_after_exchange_has`): without them its regexes are not searched.
    pub(super) needs_previous: bool,
}

impl Matcher {
    /// Compiles the rules of `ruleset` as they are (active and preview alike: [`crate::Engine::new`]
    /// decides which set goes where).
    ///
    /// # Errors
    /// A regex that does not compile, a phrase or context word that normalises to nothing, or an
    /// automaton too large to build; each names the rule, its file and line.
    pub(crate) fn compile(ruleset: Ruleset) -> Result<Matcher, EngineError> {
        let n = &ruleset.manifest.normalize;
        let opts = Options {
            width: n.width,
            case: n.case,
            traditional: n.traditional,
            numbers: n.numbers,
            noise: n.noise,
            repeats: n.repeats,
            spelling: n.spelling,
            mentions: n.mentions,
            pronouns: n.pronouns,
            sentence_spaces: n.sentence_spaces,
        };
        let norm = |s: &str| normalize(s, &opts).as_str().to_string();
        let norm_repeats = |s: &str| {
            let n = normalize(s, &opts);
            (n.as_str().to_string(), n.repeats().to_vec())
        };

        let mut rules = Vec::with_capacity(ruleset.rules.len());
        let mut patterns: Vec<String> = Vec::new();
        let mut owners: Vec<Owner> = Vec::new();
        let mut pattern_index: HashMap<String, usize> = HashMap::new();
        let mut owner_of =
            |p: String, patterns: &mut Vec<String>, owners: &mut Vec<Owner>| -> usize {
                *pattern_index.entry(p.clone()).or_insert_with(|| {
                    patterns.push(p);
                    owners.push(Owner::default());
                    patterns.len() - 1
                })
            };
        let mut regexes = Vec::new();
        let mut unanchored = Vec::new();
        // Per pattern, the regexes it anchors; flattened into `anchors` once every pattern is known.
        let mut anchored_by: Vec<Vec<Anchor>> = Vec::new();
        for (idx, rule) in ruleset.rules.iter().enumerate() {
            let idx = idx as u32;
            for phrase in &rule.matcher.phrases {
                let (p, repeats) = norm_repeats(phrase);
                if p.is_empty() {
                    return Err(EngineError::unreachable(rule, phrase));
                }
                let at = owner_of(p, &mut patterns, &mut owners);
                let owner = &mut owners[at];
                if repeats.is_empty() {
                    if !owner.rules.contains(&idx) {
                        owner.rules.push(idx);
                    }
                } else if !owner
                    .repeated
                    .iter()
                    .any(|(r, o)| *r == idx && **o == *repeats)
                {
                    owner.repeated.push((idx, repeats.into()));
                }
            }
            for src in &rule.matcher.regex {
                let regex = shared::regex(src).ok_or_else(|| match regex::Regex::new(src) {
                    // The regex crate words syntax errors for people; use its message.
                    Err(e) => EngineError::regex(rule, src, &e),
                    Ok(_) => {
                        EngineError::Automaton(format!("rule {}: {src:?} is too large", rule.id))
                    }
                })?;
                // A `hit` group that is the whole pattern is the whole match: reading it off would run the
                // capturing search (the bounded backtracker, the slowest part of a turn with a match) for
                // nothing. 84 of zh-CN's 144 `hit` regexes are written so.
                let hit_group = regex
                    .meta
                    .group_info()
                    .pattern_names(regex_automata::PatternID::ZERO)
                    .position(|n| n == Some("hit"))
                    .filter(|_| !hit_is_whole(src));
                let r = regexes.len() as u32;
                let gate = gate(src);
                let mut need = 0u8;
                let mut prefix_bit = 0u8;
                let mut window = None;
                let window_set = gate.window.as_ref().map(|w| w.set);
                for (bit, set) in gate.sets.into_iter().enumerate() {
                    let (is_prefix, is_window) =
                        (gate.prefix == Some(bit), window_set == Some(bit));
                    // The char-wise automaton takes whole characters: a set with a literal cut inside one is
                    // not used (fewer sets only wake the regex more often).
                    let Some(lits) = set
                        .into_iter()
                        .map(|b| String::from_utf8(b).ok())
                        .collect::<Option<Vec<String>>>()
                    else {
                        continue;
                    };
                    if gate.prefix == Some(bit) {
                        prefix_bit = 1u8 << bit;
                    }
                    if let Some(w) = gate.window.as_ref().filter(|w| w.set == bit) {
                        window = Some((1u8 << bit, w.clone()));
                    }
                    let bit = 1u8 << bit;
                    need |= bit;
                    for lit in lits {
                        let at = owner_of(lit, &mut patterns, &mut owners);
                        if anchored_by.len() <= at {
                            anchored_by.resize_with(at + 1, Vec::new);
                        }
                        anchored_by[at].push(Anchor::new(r, bit, is_prefix, is_window));
                    }
                }
                if need == 0 {
                    unanchored.push(r);
                }
                let weak = gate
                    .weak
                    .iter()
                    .filter_map(|set| WeakSet::new(set))
                    .collect();
                regexes.push(CompiledRegex {
                    matches_empty: gate.min_len == 0,
                    start_anchored: gate.start_anchored,
                    rule: idx,
                    role: rule.role,
                    regex,
                    hit_group,
                    need,
                    digits: gate.digits,
                    prefix_bit,
                    window,
                    weak,
                    needs_previous: needs_previous(rule),
                });
            }
            rules.push(CompiledRule {
                context: Context::compile(rule, &norm)?,
                role: rule.role,
                template: Template::rule(rule),
                needs_previous: needs_previous(rule),
            });
        }
        for word in &ruleset.manifest.allow {
            let w = norm(word);
            if !w.is_empty() {
                let at = owner_of(w, &mut patterns, &mut owners);
                owners[at].allow = true;
            }
        }
        let mut anchors = Vec::new();
        anchored_by.resize_with(owners.len(), Vec::new);
        for ((owner, p), by) in owners.iter_mut().zip(&patterns).zip(&anchored_by) {
            owner.bounds = bounds(p);
            owner.anchors = (anchors.len() as u32, by.len() as u32);
            anchors.extend_from_slice(by);
        }
        let phrases = if patterns.is_empty() {
            None
        } else {
            Some(
                Automaton::build(
                    patterns
                        .iter()
                        .enumerate()
                        .map(|(i, p)| (p.as_str(), PatternValue::of(i, &owners[i], &anchors))),
                )
                .map_err(|e| EngineError::Automaton(e.to_string()))?,
            )
        };
        let tolerant = TolerantPhrases::compile(&ruleset, &norm);
        let needs = regexes.iter().map(|r: &CompiledRegex| r.need).collect();
        let wants_previous = rules.iter().any(|r| r.context.wants_previous());
        Ok(Matcher {
            ruleset: Arc::new(ruleset),
            opts,
            rules,
            phrases,
            owners,
            anchors,
            regexes,
            needs,
            unanchored,
            tolerant,
            wants_previous,
        })
    }
}

pub(super) const BOUND_START_LETTER: u8 = 1;
pub(super) const BOUND_START_DIGIT: u8 = 2;
pub(super) const BOUND_END_LETTER: u8 = 4;
pub(super) const BOUND_END_DIGIT: u8 = 8;

/// The word boundaries a normalised phrase needs: a Latin letter at either end must not touch another letter
/// in the text, a digit another digit (`av` in `1av2` and `a123b` match; not in `have`, nor `69` in `695`).
fn bounds(p: &str) -> u8 {
    let class = |c: Option<char>, letter: u8, digit: u8| match c {
        Some(c) if c.is_ascii_alphabetic() => letter,
        Some(c) if c.is_ascii_digit() => digit,
        _ => 0,
    };
    class(p.chars().next(), BOUND_START_LETTER, BOUND_START_DIGIT)
        | class(p.chars().next_back(), BOUND_END_LETTER, BOUND_END_DIGIT)
}
