//! A rule file's data model (`rules/<category>/<ID>.toml`): what a compliance lead writes for one rule, and
//! the vocabulary rules and scorecards share (roles, categories, severities, match specs).

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
    /// Dropped when the matched words themselves hold one of these (the gap of a regex took in what makes
    /// it something else: 提供一下您的会员卡号 is no bank card).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unless_hit_has: Vec<String>,
    /// Kept only when one of these occurs elsewhere in the same sentence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub only_if_sentence_has: Vec<String>,
    /// Kept only when one of these occurs in the other party's previous turn (for an agent rule, the
    /// customer's last turn before this one). Without a previous turn (a lone `scan`) the rule never fires.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub only_after_turn_has: Vec<String>,
    /// Dropped when one of these occurs in the other party's previous turn.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unless_after_turn_has: Vec<String>,
    /// Kept only when one of these occurs in the last exchange: the other party's previous turn, or this
    /// party's own turn that it answered (这边发送验证码…可以吗 → 可以 → 还麻烦告知下呢: the code is named in the
    /// agent's own question). Without a previous turn the rule never fires.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub only_after_exchange_has: Vec<String>,
    /// Dropped when one of these occurs in the last exchange (either of its two turns).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unless_after_exchange_has: Vec<String>,
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
    /// The other party's previous turn, for rules with `only_after_turn_has` / `unless_after_turn_has`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    /// This party's own turn that `previous` answered, for rules with `only_after_exchange_has` /
    /// `unless_after_exchange_has`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_previous: Option<String>,
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
