//! The ruleset data model: what a compliance lead writes in TOML.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Who said a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Agent,
    Customer,
    System,
}

impl Role {
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Customer => "customer",
            Role::System => "system",
        }
    }

    /// Parses `agent` / `customer` / `system` (and the common synonyms transcripts use).
    pub fn parse(s: &str) -> Option<Role> {
        match s.trim().to_ascii_lowercase().as_str() {
            "agent" | "staff" | "waiter" | "客服" | "坐席" => Some(Role::Agent),
            "customer" | "client" | "user" | "客户" | "用户" => Some(Role::Customer),
            "system" | "bot" => Some(Role::System),
            _ => None,
        }
    }
}

/// Which turns a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleScope {
    #[default]
    Agent,
    Customer,
    Any,
}

impl RoleScope {
    pub fn applies_to(&self, role: Role) -> bool {
        match self {
            RoleScope::Agent => role == Role::Agent,
            RoleScope::Customer => role == Role::Customer,
            RoleScope::Any => true,
        }
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Forbidden,
    Promise,
    Privacy,
    Disclosure,
    Flow,
    Courtesy,
    Timing,
    Structure,
}

impl Category {
    pub const ALL: [Category; 8] = [
        Category::Forbidden,
        Category::Promise,
        Category::Privacy,
        Category::Disclosure,
        Category::Flow,
        Category::Courtesy,
        Category::Timing,
        Category::Structure,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Category::Forbidden => "forbidden",
            Category::Promise => "promise",
            Category::Privacy => "privacy",
            Category::Disclosure => "disclosure",
            Category::Flow => "flow",
            Category::Courtesy => "courtesy",
            Category::Timing => "timing",
            Category::Structure => "structure",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Ordered: `info < minor < major < critical`; critical is a fatal item on a scorecard.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Minor,
    Major,
    Critical,
}

impl Severity {
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Minor => "minor",
            Severity::Major => "major",
            Severity::Critical => "critical",
        }
    }
}

/// Checks a candidate match must pass beyond its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Validate {
    #[default]
    None,
    /// Mainland resident ID number (GB 11643-1999): 17 digits and a mod-11 check character.
    IdCard,
    /// Payment card number: Luhn checksum.
    Luhn,
}

/// Whether `rewrite()` may apply a suggestion without a human looking at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    #[default]
    Safe,
    Review,
}

impl Applicability {
    /// The name in rule files and JSON output (`safe`, `review`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Applicability::Safe => "safe",
            Applicability::Review => "review",
        }
    }
}

/// Whether a rule is enforced, or only watched while its authors judge it on live traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Findings count in scores, fatal items and rewrites.
    #[default]
    Active,
    /// Findings are reported apart (`previews`) and never count in scores, fatal items or rewrites.
    Preview,
}

impl Status {
    pub fn is_active(&self) -> bool {
        *self == Status::Active
    }
}

/// How a privacy suggestion redacts what it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mask {
    /// Every digit or letter but the last four becomes `*`.
    #[serde(rename = "keep_last_4")]
    KeepLast4,
    /// Every character becomes `*`.
    All,
}

fn default_window() -> usize {
    6
}

fn is_default_window(w: &usize) -> bool {
    *w == default_window()
}

/// What a rule looks for in one turn, and the context that makes a hit compliant after all.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Match {
    /// Literal phrases, normalised like the text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phrases: Vec<String>,
    /// Regexes over the normalised text; a group named `hit` narrows the reported span.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regex: Vec<String>,
    /// Dropped when the text right after the hit starts with one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unless_followed_by: Vec<String>,
    /// Dropped when the text right before the hit ends with one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unless_preceded_by: Vec<String>,
    /// Dropped when one of these occurs in the same clause within `before_window` chars before the hit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unless_before: Vec<String>,
    #[serde(default = "default_window", skip_serializing_if = "is_default_window")]
    pub before_window: usize,
    /// Dropped when one of these occurs in the same clause within `after_window` chars after the hit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unless_after: Vec<String>,
    #[serde(default = "default_window", skip_serializing_if = "is_default_window")]
    pub after_window: usize,
    /// Dropped when one of these occurs elsewhere in the same sentence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unless_sentence_has: Vec<String>,
    /// Dropped when one of these occurs elsewhere in the turn.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unless_turn_has: Vec<String>,
    /// Kept only when one of these occurs elsewhere in the same sentence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub only_if_sentence_has: Vec<String>,
    #[serde(default)]
    pub validate: Validate,
    /// On transcribed (speech) turns, also match the Chinese phrases at pinyin level with a small edit
    /// distance, absorbing recogniser near-misses (不适合我的问题 for 不是我的问题).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub asr_tolerant: bool,
}

/// A compliant phrasing (or a redaction) for what a rule found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Suggest {
    /// Text that replaces the matched span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace: Option<String>,
    /// Redaction of the matched span (privacy rules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask: Option<Mask>,
    #[serde(default)]
    pub applicability: Applicability,
}

/// A rule's own test case: `bad` must trigger the rule, `ok` must not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Example {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bad: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ok: Option<String>,
    /// What `rewrite(bad)` must return exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// The role of the example turn; defaults to the rule's role (agent for `any`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

/// One rule, one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable code, equal to the file name; never reused.
    pub id: String,
    /// Names the bad pattern, kebab-case.
    pub name: String,
    pub category: Category,
    pub severity: Severity,
    #[serde(default)]
    pub role: RoleScope,
    /// `preview`: reported apart, never enforced (default `active`).
    #[serde(default, skip_serializing_if = "Status::is_active")]
    pub status: Status,
    /// Says what is wrong; `{matched}` is replaced by the matched original text.
    pub message: String,
    /// Source or regulation.
    #[serde(default)]
    pub why: String,
    /// One coaching tip for the agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tip: Option<String>,
    #[serde(rename = "match", default)]
    pub matcher: Match,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suggest: Vec<Suggest>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub example: Vec<Example>,
    /// Where the rule was loaded from (file label), for error messages.
    #[serde(skip)]
    #[schemars(skip)]
    pub source: Source,
}

/// The file a rule came from, kept so that later errors (a bad regex, a failing example) can name its line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Source {
    pub file: String,
    pub text: String,
}

impl Source {
    /// 1-based line of the first occurrence of `needle` in the file, if any.
    pub fn line_of(&self, needle: &str) -> Option<usize> {
        self.text
            .find(needle)
            .map(|at| self.text[..at].matches('\n').count() + 1)
    }
}

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

#[cfg(test)]
mod applicability_tests {
    use super::Applicability;

    /// Every variant the schema knows has its own name, the one serde writes (the Python binding shows it).
    #[test]
    fn every_applicability_has_its_own_name() {
        let schema = serde_json::to_value(schemars::schema_for!(Applicability)).unwrap_or_default();
        let names: Vec<String> = schema["enum"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        assert!(names.len() >= 2, "{schema}");
        for name in names {
            let a: Applicability =
                serde_json::from_value(serde_json::Value::String(name.clone())).expect("known");
            assert_eq!(a.as_str(), name);
        }
    }
}
