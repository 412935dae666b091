//! Compiling a ruleset into matchers, and checking one turn.

use std::sync::{Arc, OnceLock};

use daachorse::{CharwiseDoubleArrayAhoCorasick, CharwiseDoubleArrayAhoCorasickBuilder};
use huashu_rules::{Mask, Role, RoleScope, Rule, Ruleset, Validate};
use huashu_text::{Normalized, Options, Span, normalize, normalize_into};
use regex_automata::meta::Regex;
use regex_automata::{Anchored, Input};
use std::cell::RefCell;
use std::collections::HashMap;

use crate::anchors::{CharSet, gate, longest_digit_run};

use crate::asr::{Tolerance, TolerantPhrases};
use crate::context::Context;
use crate::conversation::Conversation;
use crate::error::EngineError;
use crate::finding::{Finding, Suggestion};
use crate::rewrite::Withheld;
use crate::validate;

/// A ruleset compiled for matching. Immutable, `Send + Sync`, cheap to share behind an [`Arc`]; a new
/// ruleset version means a new `Engine`.
pub struct Engine {
    ruleset: Arc<Ruleset>,
    opts: Options,
    rules: Vec<CompiledRule>,
    /// One automaton over every rule's normalised phrases and every regex's literal anchors; reports
    /// overlapping matches so that two rules sharing text both see it.
    phrases: Option<CharwiseDoubleArrayAhoCorasick<u32>>,
    /// Pattern id of `phrases` → the rules that own that phrase and the regexes it anchors.
    owners: Vec<Owner>,
    regexes: Vec<CompiledRegex>,
    /// Regexes with no literal anchor: they run on every turn their rule applies to (if its digits allow).
    unanchored: Vec<u32>,
    conversation: Option<Box<Conversation>>,
    /// The ruleset's `status = "preview"` rules, compiled apart so that they never hide, nor are hidden
    /// by, an enforced rule's finding, and cost nothing when a ruleset has none.
    previews: Option<Box<Engine>>,
    /// Chinese phrases as pinyin, for tolerant matching of transcribed turns.
    tolerant: TolerantPhrases,
}

#[derive(Debug)]
pub(crate) struct CompiledRule {
    pub(crate) context: Context,
    /// The rule's role scope, kept here so the per-hit test does not reach into the (large) rule.
    role: RoleScope,
    /// The message split at each `{matched}` (more than one part when it quotes the match), so that a
    /// finding's message is joined rather than searched and replaced.
    message: Vec<String>,
    /// The rule id and its fixed replacements, shared by every finding of the rule.
    id: Arc<str>,
    replacements: Vec<Option<Arc<str>>>,
}

#[derive(Debug, Default)]
struct Owner {
    rules: Vec<u32>,
    /// Rules whose phrase was written with a doubled character (拜拜 → 拜): each with the offsets, in the
    /// phrase, of the characters the text must have repeated too.
    repeated: Vec<(u32, Box<[u32]>)>,
    /// Word boundaries the phrase needs (`BOUND_*`): one that begins or ends with an ASCII letter or digit
    /// matches only where the text does not go on with a letter (or digit) there (`av` not in `have`).
    bounds: u8,
    /// Regexes this literal anchors, each with the bit of the regex's literal set the literal belongs to.
    regexes: Vec<(u32, u8)>,
    /// The pattern is an allow-list phrase of the ruleset.
    allow: bool,
}

#[derive(Debug)]
struct CompiledRegex {
    rule: u32,
    regex: Regex,
    hit_group: Option<usize>,
    /// The pattern, for the dense DFA built on first use.
    source: String,
    /// The same pattern as a fully built DFA pair, when small enough: a search is a table walk with no
    /// cache to fetch, where the meta regex spends about 450 instructions per call before it scans a byte.
    /// Built the first time the regex runs (about 1 ms each), so that compiling a ruleset stays fast and
    /// regexes no turn wakes cost nothing.
    dense: OnceLock<Option<regex_automata::dfa::regex::Regex>>,
    /// One bit per literal set of the regex's gate: the regex runs once every bit has been seen.
    need: u8,
    /// Consecutive ASCII digits every match holds.
    digits: usize,
    /// The bit of the literal set every match starts with (0 if none): the regex is then tried anchored at
    /// each place such a literal was seen, rather than searched for across the turn.
    prefix_bit: u8,
    /// Otherwise, the bit of a literal set around which matches lie, and the characters a match can hold
    /// before and after that literal: the regex searches only that window of the turn.
    window: Option<(u8, CharSet, CharSet)>,
    /// The prefix or window bit: where literals of this set are seen is recorded for the search.
    track: u8,
    /// Some match is empty: an empty range is still worth a search.
    matches_empty: bool,
}

thread_local! {
    // One set of buffers per thread: the hot path allocates nothing for a clean turn.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Buffers one turn's checking reuses.
#[derive(Default)]
struct Scratch {
    norm: Normalized,
    hits: HitScratch,
}

/// Buffers one turn's matching reuses.
#[derive(Default)]
struct HitScratch {
    raw: Vec<Hit>,
    /// The turn's hits after context and overlap resolution: what the caller reads.
    kept: Vec<Hit>,
    run: Vec<u32>,
    /// Per regex, the bits of its literal sets seen in this turn (reset for every regex in `run`).
    seen: Vec<u8>,
    /// (regex, start, end) of every prefix or window literal seen in this turn.
    starts: Vec<(u32, u32, u32)>,
    allowed: Vec<(usize, usize)>,
}

/// A hit before it becomes a [`Finding`]: rule index and byte range of the normalised text.
#[derive(Debug, Clone, Copy)]
struct Hit {
    rule: u32,
    start: usize,
    end: usize,
    /// 0 for an exact hit; for a tolerant one the edit cost in half edits.
    cost: u32,
    /// Syllables of the phrase a tolerant hit matched (0 for exact hits).
    syllables: usize,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("ruleset", &self.ruleset.version_tag())
            .field("rules", &self.rules.len())
            .field("patterns", &self.owners.len())
            .field("regexes", &self.regexes.len())
            .field("unanchored", &self.unanchored.len())
            .finish_non_exhaustive()
    }
}

impl CompiledRegex {
    /// The first match in `input`: the whole match and the part to report (the `hit` group, else the whole).
    #[inline]
    fn search(
        &self,
        input: &Input<'_>,
    ) -> Option<(std::ops::Range<usize>, std::ops::Range<usize>)> {
        let whole = self.find(input)?;
        match self.hit_group {
            None => Some((whole.clone(), whole)),
            Some(g) => Some(self.hit(input, whole, g)),
        }
    }

    /// The whole of the first match in `input`.
    #[inline]
    fn find(&self, input: &Input<'_>) -> Option<std::ops::Range<usize>> {
        let dense = self.dense.get_or_init(|| dense_dfa(&self.source));
        if let Some(found) = dense.as_ref().and_then(|d| dfa_find(d, input)) {
            return found;
        }
        // No dense DFA, or it gave up (it cannot): the meta regex decides.
        self.regex.search(input).map(|m| m.range())
    }

    /// The `hit` group (group `g`) of the match `whole`, read off anchored where the match starts; and the
    /// whole match as the capturing search sees it.
    #[cold]
    #[inline(never)]
    fn hit(
        &self,
        input: &Input<'_>,
        whole: std::ops::Range<usize>,
        g: usize,
    ) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
        let mut caps = self.regex.create_captures();
        let at = input.clone().range(whole.clone()).anchored(Anchored::Yes);
        self.regex.search_captures(&at, &mut caps);
        let whole = caps.get_match().map_or(whole, |m| m.range());
        let hit = caps.get_group(g).map_or(whole.clone(), |s| s.range());
        (whole, hit)
    }
}

impl Hit {
    fn exact(rule: u32, start: usize, end: usize) -> Hit {
        Hit {
            rule,
            start,
            end,
            cost: 0,
            syllables: 0,
        }
    }
}

impl Engine {
    /// Compiles `ruleset`.
    ///
    /// # Errors
    /// A regex that does not compile, a phrase or context word that normalises to nothing, or an
    /// automaton too large to build; each names the rule, its file and line.
    pub fn new(ruleset: Ruleset) -> Result<Engine, EngineError> {
        let conversation = Conversation::compile(&ruleset)?;
        let Ruleset { manifest, rules } = ruleset;
        let (active, preview): (Vec<Rule>, Vec<Rule>) =
            rules.into_iter().partition(|r| r.status.is_active());
        let previews = if preview.is_empty() {
            None
        } else {
            let set = Ruleset {
                manifest: manifest.clone(),
                rules: preview,
            };
            Some(Box::new(Engine::compile_rules(set)?))
        };
        let mut engine = Engine::compile_rules(Ruleset {
            manifest,
            rules: active,
        })?;
        engine.conversation = Some(Box::new(conversation));
        engine.previews = previews;
        Ok(engine)
    }

    /// The preview rules' findings for one turn (empty when the ruleset has none): reported apart, never
    /// counted in scores, fatal items or rewrites.
    pub fn previews(&self, role: Role, text: &str) -> Vec<Finding> {
        self.previews
            .as_ref()
            .map_or_else(Vec::new, |p| p.check(role, text))
    }

    /// As [`Engine::previews`], stamping `turn_index` on each finding.
    pub fn previews_turn(&self, role: Role, text: &str, turn_index: usize) -> Vec<Finding> {
        self.previews
            .as_ref()
            .map_or_else(Vec::new, |p| p.check_turn(role, text, turn_index))
    }

    /// The preview rules, compiled (None when the ruleset has none).
    pub fn preview_engine(&self) -> Option<&Engine> {
        self.previews.as_deref()
    }

    /// This engine's ruleset, preview rules included, with the rules `ids` switched off, compiled anew
    /// (a sidecar session's rule switches).
    ///
    /// # Errors
    /// An id that names no rule of the ruleset.
    pub fn without_rules<S: AsRef<str>>(&self, ids: &[S]) -> Result<Engine, EngineError> {
        let mut rs = (*self.ruleset).clone();
        if let Some(p) = &self.previews {
            rs.rules.extend(p.ruleset.rules.iter().cloned());
            rs.rules.sort_by(|a, b| a.id.cmp(&b.id));
        }
        rs.disable(ids)?;
        Engine::new(rs)
    }

    /// A rule of this engine by id, enforced or preview.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.ruleset
            .rule(id)
            .or_else(|| self.previews.as_ref().and_then(|p| p.ruleset.rule(id)))
    }

    /// The per-turn matcher alone (also used for conversation cues).
    pub(crate) fn compile_rules(ruleset: Ruleset) -> Result<Engine, EngineError> {
        let n = &ruleset.manifest.normalize;
        let opts = Options {
            width: n.width,
            case: n.case,
            traditional: n.traditional,
            numbers: n.numbers,
            noise: n.noise,
            repeats: n.repeats,
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
                let regex = Regex::new(src).map_err(|_| match regex::Regex::new(src) {
                    // The regex crate words syntax errors for people; use its message.
                    Err(e) => EngineError::regex(rule, src, &e),
                    Ok(_) => {
                        EngineError::Automaton(format!("rule {}: {src:?} is too large", rule.id))
                    }
                })?;
                let hit_group = regex
                    .group_info()
                    .pattern_names(regex_automata::PatternID::ZERO)
                    .position(|n| n == Some("hit"));
                let r = regexes.len() as u32;
                let gate = gate(src);
                let mut need = 0u8;
                let mut prefix_bit = 0u8;
                let mut window = None;
                for (bit, set) in gate.sets.into_iter().enumerate() {
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
                        window = Some((1u8 << bit, w.before.clone(), w.after.clone()));
                    }
                    let bit = 1u8 << bit;
                    need |= bit;
                    for lit in lits {
                        let at = owner_of(lit, &mut patterns, &mut owners);
                        owners[at].regexes.push((r, bit));
                    }
                }
                if need == 0 {
                    unanchored.push(r);
                }
                regexes.push(CompiledRegex {
                    matches_empty: gate.min_len == 0,
                    rule: idx,
                    regex,
                    hit_group,
                    source: src.clone(),
                    dense: OnceLock::new(),
                    need,
                    digits: gate.digits,
                    prefix_bit,
                    track: prefix_bit | window.as_ref().map_or(0, |w: &(u8, CharSet, CharSet)| w.0),
                    window,
                });
            }
            rules.push(CompiledRule {
                context: Context::compile(rule, &norm)?,
                role: rule.role,
                message: rule
                    .message
                    .split("{matched}")
                    .map(str::to_string)
                    .collect(),
                id: Arc::from(rule.id.as_str()),
                replacements: rule
                    .suggest
                    .iter()
                    .map(|s| s.replace.as_deref().map(Arc::from))
                    .collect(),
            });
        }
        for word in &ruleset.manifest.allow {
            let w = norm(word);
            if !w.is_empty() {
                let at = owner_of(w, &mut patterns, &mut owners);
                owners[at].allow = true;
            }
        }
        for (owner, p) in owners.iter_mut().zip(&patterns) {
            owner.bounds = bounds(p);
        }
        let phrases = if patterns.is_empty() {
            None
        } else {
            Some(
                // No q-gram prefilter: it pays off on long texts, but every turn gets a fresh iterator
                // whose gate never learns to switch it off, and a turn is too short to skip much
                // (callgrind, 20,000 generated turns: 99.6 M instructions with it, 96.7 M without).
                CharwiseDoubleArrayAhoCorasickBuilder::new()
                    .use_prefilter(false)
                    .build_with_values(
                        patterns
                            .iter()
                            .enumerate()
                            .map(|(i, p)| (p.as_str(), i as u32)),
                    )
                    .map_err(|e| EngineError::Automaton(e.to_string()))?,
            )
        };
        let tolerant = TolerantPhrases::compile(&ruleset, &norm);
        Ok(Engine {
            ruleset: Arc::new(ruleset),
            opts,
            rules,
            phrases,
            owners,
            regexes,
            unanchored,
            conversation: None,
            previews: None,
            tolerant,
        })
    }

    /// The conversation scorer (cues, scorecard); present on every engine built with [`Engine::new`].
    pub(crate) fn conversation(&self) -> Option<&Conversation> {
        self.conversation.as_deref()
    }

    /// The bundled default ruleset `zh-CN`, compiled.
    ///
    /// # Errors
    /// Only if the bundled ruleset were broken, which the test suite rules out.
    pub fn default_ruleset() -> Result<Engine, EngineError> {
        Engine::new(Ruleset::builtin("zh-CN")?)
    }

    pub fn ruleset(&self) -> &Ruleset {
        &self.ruleset
    }

    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// Every rule's phrases, normalised as the matcher sees them (what a raw phrase-scan baseline should use).
    pub fn normalized_phrases(&self) -> Vec<String> {
        self.ruleset
            .rules
            .iter()
            .flat_map(|r| r.matcher.phrases.iter())
            .map(|p| self.normalize(p).as_str().to_string())
            .filter(|p| !p.is_empty())
            .collect()
    }

    /// Normalises `text` with this engine's options.
    pub fn normalize(&self, text: &str) -> Normalized {
        normalize(text, &self.opts)
    }

    /// Findings for one turn, sorted by position; never overlapping.
    pub fn check(&self, role: Role, text: &str) -> Vec<Finding> {
        self.check_turn(role, text, 0)
    }

    /// As [`Engine::check`], stamping `turn_index` on each finding.
    pub fn check_turn(&self, role: Role, text: &str, turn_index: usize) -> Vec<Finding> {
        if text.is_empty() {
            return Vec::new();
        }
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => {
                let Scratch { norm, hits } = &mut *scratch;
                normalize_into(norm, text, &self.opts);
                self.hits_in(
                    hits,
                    role,
                    norm.as_str(),
                    norm.repeats(),
                    Some(norm.digit_run()),
                    true,
                    Tolerance::Off,
                );
                self.findings(&hits.kept, text, norm, turn_index, None)
            }
            Err(_) => self.check_normalized(role, text, &self.normalize(text), turn_index),
        })
    }

    /// As [`Engine::check_turn`] on a text already normalised with this engine's options.
    pub(crate) fn check_normalized(
        &self,
        role: Role,
        text: &str,
        norm: &Normalized,
        turn_index: usize,
    ) -> Vec<Finding> {
        self.check_normalized_asr(role, text, norm, turn_index, None)
    }

    /// Findings for a turn a speech recogniser produced with `confidence` (0–1): each finding carries a
    /// confidence, and rules also match at pinyin level as `tolerance` says (a tolerant hit's confidence is
    /// lowered by its edit distance).
    pub fn check_asr(
        &self,
        role: Role,
        text: &str,
        confidence: f32,
        tolerance: Tolerance,
        turn_index: usize,
    ) -> Vec<Finding> {
        if text.is_empty() {
            return Vec::new();
        }
        let norm = self.normalize(text);
        self.check_normalized_asr(role, text, &norm, turn_index, Some((confidence, tolerance)))
    }

    pub(crate) fn check_normalized_asr(
        &self,
        role: Role,
        text: &str,
        norm: &Normalized,
        turn_index: usize,
        asr: Option<(f32, Tolerance)>,
    ) -> Vec<Finding> {
        let tolerance = asr.map_or(Tolerance::Off, |(_, t)| t);
        let digits = Some(norm.digit_run());
        self.with_hits(role, norm, digits, true, tolerance, |hits| {
            self.findings(hits, text, norm, turn_index, asr)
        })
    }

    fn findings(
        &self,
        hits: &[Hit],
        text: &str,
        norm: &Normalized,
        turn_index: usize,
        asr: Option<(f32, Tolerance)>,
    ) -> Vec<Finding> {
        // Character offsets are counted on from the previous finding's start (hits come sorted by
        // position), not from the start of the turn for each.
        let mut cursor = (0, 0);
        hits.iter()
            .map(|&h| {
                let mut f = self.finding(h, text, norm, turn_index, &mut cursor);
                if let Some((c, _)) = asr {
                    let c = if c.is_finite() {
                        c.clamp(0.0, 1.0)
                    } else {
                        0.0
                    };
                    let penalty = if h.syllables == 0 {
                        1.0
                    } else {
                        1.0 - h.cost as f32 / (2 * h.syllables) as f32
                    };
                    f.confidence = Some((c * penalty).clamp(0.0, 1.0));
                }
                f
            })
            .collect()
    }

    /// The compliant rewrite of `text`, or `None` when there is none to offer (see
    /// [`Engine::compliant_rewrite`]).
    pub fn rewrite(&self, role: Role, text: &str) -> Option<String> {
        self.compliant_rewrite(role, text, &self.check(role, text))
            .ok()
    }

    /// `text` with the safe suggestion of every finding applied, checked again until nothing is left to
    /// apply: a rewrite this engine would flag is never offered. `findings` are this engine's findings on
    /// `text`; a turn without findings is its own rewrite.
    ///
    /// # Errors
    /// [`Withheld`] naming what would still be flagged (a rule with no safe replacement, or a replacement
    /// that leaves the clause non-compliant).
    pub fn compliant_rewrite(
        &self,
        role: Role,
        text: &str,
        findings: &[Finding],
    ) -> Result<String, Withheld> {
        crate::rewrite::settle(self, role, text, findings)
    }

    /// Every rule's hits in `t` (normalised) as (rule index, byte range of `t`), context applied; overlaps
    /// across rules kept. Conversation cues use this: an empathy cue may share words with a solution cue.
    pub(crate) fn cue_hits(
        &self,
        role: Role,
        norm: &Normalized,
    ) -> Vec<(usize, std::ops::Range<usize>)> {
        self.with_hits(role, norm, None, false, Tolerance::Off, |hits| {
            hits.iter()
                .map(|h| (h.rule as usize, h.start..h.end))
                .collect()
        })
    }

    /// Calls `f` with the hits in `t` (normalised), held in this thread's scratch buffers. `digits`: the
    /// longest run of ASCII digits in `t`, if the caller already knows it.
    fn with_hits<R>(
        &self,
        role: Role,
        norm: &Normalized,
        digits: Option<usize>,
        resolve: bool,
        tolerance: Tolerance,
        f: impl FnOnce(&[Hit]) -> R,
    ) -> R {
        SCRATCH.with(|cell| {
            let mut own;
            let mut borrowed = cell.try_borrow_mut();
            let hits = match &mut borrowed {
                Ok(scratch) => &mut scratch.hits,
                Err(_) => {
                    own = HitScratch::default();
                    &mut own
                }
            };
            self.hits_in(
                hits,
                role,
                norm.as_str(),
                norm.repeats(),
                digits,
                resolve,
                tolerance,
            );
            f(&hits.kept)
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn hits_in(
        &self,
        scratch: &mut HitScratch,
        role: Role,
        t: &str,
        repeats: &[u32],
        digits: Option<usize>,
        resolve: bool,
        tolerance: Tolerance,
    ) {
        let HitScratch {
            raw,
            kept,
            run,
            seen,
            starts,
            allowed,
        } = scratch;
        raw.clear();
        kept.clear();
        run.clear();
        starts.clear();
        allowed.clear();
        if seen.len() < self.regexes.len() {
            seen.resize(self.regexes.len(), 0);
        }
        if let Some(ac) = &self.phrases {
            for m in ac.find_overlapping_iter(t) {
                let owner = &self.owners[m.value() as usize];
                if owner.allow {
                    allowed.push((m.start(), m.end()));
                }
                let bounded = owner.bounds == 0 || at_bounds(t, m.start(), m.end(), owner.bounds);
                for &rule in &owner.rules {
                    if bounded && self.rules[rule as usize].role.applies_to(role) {
                        raw.push(Hit::exact(rule, m.start(), m.end()));
                    }
                }
                for (rule, offsets) in &owner.repeated {
                    if bounded
                        && self.rules[*rule as usize].role.applies_to(role)
                        && offsets
                            .iter()
                            .all(|&o| repeats.binary_search(&(m.start() as u32 + o)).is_ok())
                    {
                        raw.push(Hit::exact(*rule, m.start(), m.end()));
                    }
                }
                for &(r, bit) in &owner.regexes {
                    let s = &mut seen[r as usize];
                    if *s == 0 {
                        run.push(r);
                    }
                    *s |= bit;
                    if bit == self.regexes[r as usize].track {
                        starts.push((r, m.start() as u32, m.end() as u32));
                    }
                }
            }
        }
        // Regexes whose every literal set was seen, then those with no literal to wait for.
        let mut ready = 0;
        for k in 0..run.len() {
            let r = run[k];
            let s = std::mem::take(&mut seen[r as usize]);
            if s == self.regexes[r as usize].need {
                run[ready] = r;
                ready += 1;
            }
        }
        run.truncate(ready);
        run.extend_from_slice(&self.unanchored);
        starts.sort_unstable();
        starts.dedup();
        let mut digit_run = digits;
        for &i in run.iter() {
            let r = &self.regexes[i as usize];
            if !self.rules[r.rule as usize].role.applies_to(role) {
                continue;
            }
            if r.digits > 1 && *digit_run.get_or_insert_with(|| longest_digit_run(t)) < r.digits {
                continue;
            }
            if r.prefix_bit != 0 {
                // Every match starts at a prefix literal: try each, in order, as find_iter would (a match
                // hides the starts inside it).
                let lo = starts.partition_point(|x| x.0 < i);
                let hi = starts.partition_point(|x| x.0 <= i);
                let mut free = 0;
                for &(_, p, _) in &starts[lo..hi] {
                    let p = p as usize;
                    if p < free {
                        continue;
                    }
                    let input = Input::new(t).range(p..).anchored(Anchored::Yes);
                    if let Some((whole, hit)) = r.search(&input) {
                        free = whole.end;
                        if !hit.is_empty() {
                            raw.push(Hit::exact(r.rule, hit.start, hit.end));
                        }
                    }
                }
                continue;
            }
            let (mut at, mut end) = (0, t.len());
            if let Some((_, before, after)) = &r.window {
                let lo = starts.partition_point(|x| x.0 < i);
                let hi = starts.partition_point(|x| x.0 <= i);
                (at, end) = (t.len(), 0);
                for &(_, s, e) in &starts[lo..hi] {
                    at = at.min(before.run_before(t, s as usize));
                    end = end.max(after.run_after(t, e as usize));
                }
            }
            // A match that ends at the window's end leaves an empty range: searched only if a match can be empty.
            while at < end || (at == end && r.matches_empty) {
                let Some((whole, hit)) = r.search(&Input::new(t).range(at..end)) else {
                    break;
                };
                if !hit.is_empty() {
                    raw.push(Hit::exact(r.rule, hit.start, hit.end));
                }
                // An empty match moves on by one character, as find_iter does.
                at = if whole.is_empty() {
                    whole.end + t[whole.end..].chars().next().map_or(1, char::len_utf8)
                } else {
                    whole.end
                };
            }
        }
        if tolerance != Tolerance::Off && !self.tolerant.is_empty() {
            let wanted = |rule: u32| self.rules[rule as usize].role.applies_to(role);
            for h in self.tolerant.find(t, tolerance, &wanted) {
                raw.push(Hit {
                    rule: h.rule,
                    start: h.start,
                    end: h.end,
                    cost: h.cost,
                    syllables: h.syllables,
                });
            }
        }
        if raw.is_empty() {
            return;
        }
        // Within a rule: leftmost-longest, non-overlapping.
        raw.sort_unstable_by_key(|h| (h.rule, h.start, std::cmp::Reverse(h.end), h.cost));
        let mut last: Option<(u32, usize)> = None;
        for &h in raw.iter() {
            if let Some((rule, end)) = last {
                if rule == h.rule && h.start < end {
                    continue;
                }
            }
            if !self.passes(&h, t) {
                continue;
            }
            last = Some((h.rule, h.end));
            kept.push(h);
        }
        if !allowed.is_empty() {
            kept.retain(|h| !allowed.iter().any(|&(s, e)| s <= h.start && h.end <= e));
        }
        if resolve {
            resolve_overlaps(kept, &self.ruleset.rules);
        }
    }

    fn passes(&self, h: &Hit, t: &str) -> bool {
        let rule = &self.ruleset.rules[h.rule as usize];
        let ok = match rule.matcher.validate {
            Validate::None => true,
            Validate::IdCard => validate::id_card(&t[h.start..h.end]),
            Validate::Luhn => validate::luhn(&t[h.start..h.end]),
        };
        ok && self.rules[h.rule as usize]
            .context
            .allows(t, h.start, h.end)
    }

    /// The finding for hit `h`. `cursor` is a (byte, char) offset pair of `text` at or before the hit.
    fn finding(
        &self,
        h: Hit,
        text: &str,
        norm: &Normalized,
        turn_index: usize,
        cursor: &mut (usize, usize),
    ) -> Finding {
        let rule = &self.ruleset.rules[h.rule as usize];
        let span = norm.original_span(h.start..h.end);
        if cursor.0 > span.start {
            *cursor = (0, 0);
        }
        let char_start = cursor.1 + text[cursor.0..span.start].chars().count();
        *cursor = (span.start, char_start);
        let chars = char_start..char_start + text[span.start..span.end].chars().count();
        let matched = text[span.start..span.end].to_string();
        let compiled = &self.rules[h.rule as usize];
        Finding {
            rule_id: Arc::clone(&compiled.id),
            category: rule.category,
            severity: rule.severity,
            turn_index,
            span,
            char_start: chars.start,
            char_end: chars.end,
            message: message(&compiled.message, &matched),
            suggestions: suggestions(rule, &compiled.replacements, span, &matched),
            matched,
            confidence: None,
        }
    }
}

/// The first match of `dfa` in `input`; None when the DFA gave up (it cannot, without Unicode word
/// boundaries, which it would not have been built with).
#[inline]
fn dfa_find<A: regex_automata::dfa::Automaton>(
    dfa: &regex_automata::dfa::regex::Regex<A>,
    input: &Input<'_>,
) -> Option<Option<std::ops::Range<usize>>> {
    if input.get_anchored().is_anchored() {
        // An anchored match starts where the search does: the forward DFA alone finds its end, with no
        // reverse pass for the start.
        let found = dfa.forward().try_search_fwd(input).ok()?;
        return Some(found.map(|m| input.start()..m.offset()));
    }
    let found = dfa.try_search(input).ok()?;
    Some(found.map(|m| m.range()))
}

/// `pattern` as a dense DFA pair (forward and reverse) within a size budget, or None (too large, or a
/// feature such as a Unicode word boundary that a DFA cannot take): the meta regex then searches alone.
/// (Sparse DFAs for the larger ones were tried: 3-4 % more instructions than the meta regex.)
fn dense_dfa(pattern: &str) -> Option<regex_automata::dfa::regex::Regex> {
    use regex_automata::dfa::{dense, regex::Regex as DfaRegex};
    const LIMIT: usize = 128 << 10;
    let config = dense::Config::new()
        .dfa_size_limit(Some(LIMIT))
        .determinize_size_limit(Some(LIMIT));
    DfaRegex::builder().dense(config).build(pattern).ok()
}

/// A rule's message with the matched text put in place of each `{matched}` (`parts` is the message split there).
fn message(parts: &[String], matched: &str) -> String {
    let Some((first, rest)) = parts.split_first() else {
        return String::new();
    };
    let len = parts.iter().map(String::len).sum::<usize>() + rest.len() * matched.len();
    let mut out = String::with_capacity(len);
    out.push_str(first);
    for part in rest {
        out.push_str(matched);
        out.push_str(part);
    }
    out
}

/// The rule's suggestions for `matched`; `fixed` holds the rule's replacements, shared (None for a mask).
fn suggestions(
    rule: &Rule,
    fixed: &[Option<Arc<str>>],
    span: Span,
    matched: &str,
) -> Vec<Suggestion> {
    rule.suggest
        .iter()
        .zip(fixed)
        .map(|(s, fixed)| Suggestion {
            span,
            replacement: match (fixed, s.mask) {
                (Some(r), _) => Arc::clone(r),
                (None, Some(mask)) => Arc::from(apply_mask(matched, mask)),
                (None, None) => Arc::from(""),
            },
            applicability: s.applicability,
        })
        .collect()
}

/// Redacts `s`: with `KeepLast4`, every letter or digit except the last four becomes `*` (separators stay,
/// so the agent can still read back "尾号 1234").
pub fn apply_mask(s: &str, mask: Mask) -> String {
    if s.is_ascii() {
        // Card and ID numbers: a byte per character, no decoding.
        let mut out = s.as_bytes().to_vec();
        let total = out.iter().filter(|b| b.is_ascii_alphanumeric()).count();
        let mut seen = 0;
        for b in &mut out {
            let redact = match mask {
                Mask::All => !char::from(*b).is_whitespace(),
                Mask::KeepLast4 => {
                    b.is_ascii_alphanumeric() && {
                        seen += 1;
                        seen + 4 <= total
                    }
                }
            };
            if redact {
                *b = b'*';
            }
        }
        return String::from_utf8(out).unwrap_or_default();
    }
    match mask {
        Mask::All => s
            .chars()
            .map(|c| if c.is_whitespace() { c } else { '*' })
            .collect(),
        Mask::KeepLast4 => {
            let total = s.chars().filter(|c| c.is_alphanumeric()).count();
            let mut seen = 0;
            s.chars()
                .map(|c| {
                    if c.is_alphanumeric() {
                        seen += 1;
                        if seen + 4 <= total { '*' } else { c }
                    } else {
                        c
                    }
                })
                .collect()
        }
    }
}

const BOUND_START_LETTER: u8 = 1;
const BOUND_START_DIGIT: u8 = 2;
const BOUND_END_LETTER: u8 = 4;
const BOUND_END_DIGIT: u8 = 8;

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

/// Whether the match `start..end` of `t` (normalised) lies at the word boundaries `b` asks for.
#[inline]
fn at_bounds(t: &str, start: usize, end: usize, b: u8) -> bool {
    let (before, after) = (
        t[..start].bytes().next_back().unwrap_or(b' '),
        t.as_bytes().get(end).copied().unwrap_or(b' '),
    );
    !(b & BOUND_START_LETTER != 0 && before.is_ascii_alphabetic()
        || b & BOUND_START_DIGIT != 0 && before.is_ascii_digit()
        || b & BOUND_END_LETTER != 0 && after.is_ascii_alphabetic()
        || b & BOUND_END_DIGIT != 0 && after.is_ascii_digit())
}

/// Across rules, findings never overlap: the more severe wins, then the longer, then the earlier, then the
/// lower rule id. Deterministic whatever order the matchers produced.
fn resolve_overlaps(hits: &mut Vec<Hit>, rules: &[Rule]) {
    hits.sort_by(|a, b| {
        let (ra, rb) = (&rules[a.rule as usize], &rules[b.rule as usize]);
        rb.severity
            .cmp(&ra.severity)
            .then(a.cost.cmp(&b.cost))
            .then((b.end - b.start).cmp(&(a.end - a.start)))
            .then(a.start.cmp(&b.start))
            .then(ra.id.cmp(&rb.id))
    });
    // Kept hits are compacted to the front in place: no second buffer.
    let mut n = 0;
    for i in 0..hits.len() {
        let h = hits[i];
        if !hits[..n].iter().any(|k| h.start < k.end && k.start < h.end) {
            hits[n] = h;
            n += 1;
        }
    }
    hits.truncate(n);
    hits.sort_by_key(|h| (h.start, h.end, h.rule));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_separators_and_the_last_four() {
        // ASCII takes the byte path, anything else the char path: both redact the same way.
        assert_eq!(
            apply_mask("6222 0212 3456 7890", Mask::KeepLast4),
            "**** **** **** 7890"
        );
        assert_eq!(
            apply_mask("11010519491231002X", Mask::KeepLast4),
            "**************002X"
        );
        assert_eq!(
            apply_mask("１１０１0519491231002X", Mask::KeepLast4),
            "**************002X"
        );
        assert_eq!(apply_mask("123", Mask::KeepLast4), "123");
        assert_eq!(apply_mask("ab c\td", Mask::All), "** *\t*");
        assert_eq!(apply_mask("密码 1234", Mask::All), "** ****");
    }
}
