//! The manifest's data model (`ruleset.toml`): what the ruleset is, its normalisation and its scorecard
//! (`[scoring]`: cues, checks, points, timing, must-say items). A rule file's model is `rule.rs`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::rule::{Match, Severity};

/// Which normalisation steps a ruleset wants (all on by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Normalization {
    pub width: bool,
    pub case: bool,
    pub traditional: bool,
    pub numbers: bool,
    pub noise: bool,
    pub repeats: bool,
    /// Latin words spelled out to slip past a phrase: `p a s s w o r d`, `d.o.n.t`, `passw0rd`, `p@ss`.
    pub spelling: bool,
    /// The @mentions that open a turn (`@MommaYou2 `) and the sign-off that ends it (`^JD`, `1/2`) dropped:
    /// who a social-channel reply is to and from, not what it says.
    pub mentions: bool,
    /// 你 and 妳 read as 您 (the same second person, told apart only by politeness): rule text is written with 您.
    pub pronouns: bool,
    /// Whitespace between two stretches of ideographs (行的 这边帮您核实) read as a clause break (a `,`);
    /// between single characters (不 知 道) it stays noise. Off by default.
    pub sentence_spaces: bool,
}

impl Default for Normalization {
    fn default() -> Self {
        Normalization {
            width: true,
            case: true,
            traditional: true,
            numbers: true,
            noise: true,
            repeats: true,
            spelling: true,
            mentions: true,
            pronouns: true,
            sentence_spaces: false,
        }
    }
}

/// `ruleset.toml`: what the ruleset is and what applies to all its rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub language: String,
    #[serde(default)]
    pub description: String,
    /// Rulesets whose rules this one inherits (domain packs extend a base ruleset).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extends: Vec<String>,
    /// A hit lying inside an occurrence of one of these phrases is dropped, whatever the rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    /// Ids of inherited rules this ruleset switches off (a pack tuning its base without editing it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disable: Vec<String>,
    #[serde(default)]
    pub normalize: Normalization,
    /// Word classes by name (`party = ["商家", "卖家", …]`): a rule's regex, phrase or context list names one as
    /// `{party}`, and gets every word of it. A pack's classes add words to its base's.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub classes: std::collections::BTreeMap<String, Vec<String>>,
    /// Conversation-level scorecard: cues, checks and their points, timing limits, disclosures.
    #[serde(default)]
    pub scoring: Scoring,
}

fn d_pass_mark() -> u32 {
    60
}
fn d_fatal_cap() -> u32 {
    40
}

/// How whole conversations are scored (`[scoring]` in ruleset.toml). Domain packs extend the base's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scoring {
    /// A conversation passes at this score or above, with no fatal item.
    #[serde(default = "d_pass_mark")]
    pub pass_mark: u32,
    /// The highest score a conversation with a fatal item can get.
    #[serde(default = "d_fatal_cap")]
    pub fatal_cap: u32,
    /// Points deducted per finding, by severity.
    #[serde(default)]
    pub deduct: Deductions,
    /// Whether the domain requires an identity check (banking, telecom).
    #[serde(default)]
    pub require_identity: bool,
    /// Named cue lists the checks look for (complaint, empathy, solution, commitment, greeting, …).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub cues: std::collections::BTreeMap<String, Match>,
    /// Scorecard items by check id, with their points.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub checks: std::collections::BTreeMap<String, CheckSpec>,
    #[serde(default)]
    pub timing: Timing,
    /// How complaints and customer questions are judged (late empathy, repeated questions, answers).
    #[serde(default)]
    pub dialogue: Dialogue,
    /// Must-say items: when a trigger is said, the required words must come before or with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disclosure: Vec<Disclosure>,
    /// Rules whose findings send the customer elsewhere (去找商家, 联系快递): such a turn answers no question
    /// and offers no solution to a complaint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub push_back_rules: Vec<String>,
    /// The highest score a conversation with a `major` finding can get (none when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub major_cap: Option<u32>,
    /// The highest score a conversation with a complaint left unaddressed (neither empathy nor a solution
    /// after it) can get (none when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unaddressed_cap: Option<u32>,
}

impl Default for Scoring {
    fn default() -> Self {
        Scoring {
            pass_mark: d_pass_mark(),
            fatal_cap: d_fatal_cap(),
            deduct: Deductions::default(),
            require_identity: false,
            cues: Default::default(),
            checks: Default::default(),
            timing: Timing::default(),
            dialogue: Dialogue::default(),
            disclosure: Vec::new(),
            push_back_rules: Vec::new(),
            major_cap: None,
            unaddressed_cap: None,
        }
    }
}

/// Points deducted per finding of each severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Deductions {
    pub info: u32,
    pub minor: u32,
    pub major: u32,
    pub critical: u32,
}

impl Default for Deductions {
    fn default() -> Self {
        Deductions {
            info: 0,
            minor: 3,
            major: 8,
            critical: 20,
        }
    }
}

impl Deductions {
    pub fn for_severity(&self, s: Severity) -> u32 {
        match s {
            Severity::Info => self.info,
            Severity::Minor => self.minor,
            Severity::Major => self.major,
            Severity::Critical => self.critical,
        }
    }
}

/// One scorecard item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    /// Points earned when the check passes (out of the applicable total, scaled to 100).
    pub points: u32,
    /// Failing this check fails the whole conversation.
    #[serde(default)]
    pub fatal: bool,
    /// What the check asks for, in the manual's words.
    #[serde(default)]
    pub description: String,
    /// One coaching tip when it fails.
    #[serde(default)]
    pub tip: String,
    /// When the check fails, the conversation scores at most this (0–100): a failure that keeps a conversation
    /// out of a band whatever else went well (a curt chat is not in the high band).
    #[serde(default)]
    pub cap: Option<u32>,
}

fn d_first_response() -> u64 {
    30_000
}
fn d_silence() -> u64 {
    20_000
}
fn d_overlap() -> u64 {
    1_000
}
fn d_min_rate() -> f64 {
    2.0
}
fn d_max_rate() -> f64 {
    8.0
}

/// Limits for the timing checks (turns with `start_ms`/`end_ms`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    #[serde(default = "d_first_response")]
    pub first_response_ms: u64,
    #[serde(default = "d_silence")]
    pub max_silence_ms: u64,
    #[serde(default = "d_overlap")]
    pub max_overlap_ms: u64,
    /// Agent speech rate bounds, characters per second.
    #[serde(default = "d_min_rate")]
    pub min_chars_per_s: f64,
    #[serde(default = "d_max_rate")]
    pub max_chars_per_s: f64,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            first_response_ms: d_first_response(),
            max_silence_ms: d_silence(),
            max_overlap_ms: d_overlap(),
            min_chars_per_s: d_min_rate(),
            max_chars_per_s: d_max_rate(),
        }
    }
}

fn d_late_empathy_share() -> f64 {
    0.5
}
fn d_repeat_similarity() -> f64 {
    0.5
}
fn d_repeat_min_bigrams() -> usize {
    3
}
fn d_true() -> bool {
    true
}

fn d_min_answer_chars() -> usize {
    2
}

/// Settings for judging complaints and customer questions (`[scoring.dialogue]`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dialogue {
    /// Share of the `empathy` points earned when the first empathy after a complaint comes only after the
    /// agent already gave the solution or the commitment (the customer's feelings were not met first).
    #[serde(default = "d_late_empathy_share")]
    pub late_empathy_share: f64,
    /// A customer question repeats one of their recent questions when the Dice coefficient of the two
    /// questions' character bigrams (question clauses, punctuation removed) is at least this (0–1).
    #[serde(default = "d_repeat_similarity")]
    pub repeat_similarity: f64,
    /// Questions with fewer distinct bigrams than this are never taken for repeats (那6期呢？, 多少？).
    #[serde(default = "d_repeat_min_bigrams")]
    pub repeat_min_bigrams: usize,
    /// An agent reply answers a question when it has at least this many letters, digits or CJK characters
    /// outside `filler` cues (嗯, 好的) and forbidden findings (不知道), and no `hold` or `hold_needed` cue
    /// (请稍等, 我帮您查一下: the answer is still to come).
    #[serde(default = "d_min_answer_chars")]
    pub min_answer_chars: usize,
    /// A mild complaint (said once, solved or fixed in the agent's next reply) is judged by its solution and
    /// follow-up only: `empathy`, `in_order` and `prompt` do not apply to it.
    #[serde(default)]
    pub mild_complaints: bool,
    /// A question asked again after an answer opens a complaint (the answer did not settle it). Off where
    /// customers re-ask calmly as a matter of course (chat: restating, adding the order number); the repeat
    /// still costs `responsiveness`. A question asked again after a reply without the substance it asked
    /// for (no time for a when-question) is pressing for it and opens a complaint either way.
    #[serde(default = "d_true")]
    pub repeat_after_answer_is_complaint: bool,
}

impl Default for Dialogue {
    fn default() -> Self {
        Dialogue {
            late_empathy_share: d_late_empathy_share(),
            repeat_similarity: d_repeat_similarity(),
            repeat_min_bigrams: d_repeat_min_bigrams(),
            min_answer_chars: d_min_answer_chars(),
            mild_complaints: false,
            repeat_after_answer_is_complaint: true,
        }
    }
}

/// A must-say item, e.g. a risk disclosure with any product recommendation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Disclosure {
    pub id: String,
    pub name: String,
    pub message: String,
    pub severity: Severity,
    #[serde(default)]
    pub why: String,
    #[serde(default)]
    pub tip: String,
    /// What obliges the disclosure (e.g. recommending a product).
    pub trigger: Match,
    /// What counts as the disclosure.
    pub required: Match,
    /// The words to add.
    pub suggest: String,
}
