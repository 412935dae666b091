//! Practice drills (`rulesets/<set>/drills/<id>.toml`): a scripted customer, what a good reply must contain,
//! and a pass mark. Data, like rules; the runner lives in the `huashu` crate (`huashu::drill`).

use std::fs;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::cue::Cue;
use crate::error::{RulesetError, line_of};
use crate::rule::{Category, Source};
use crate::{Ruleset, embedded};

/// Names a reply requirement may use: the scorecard cues an agent turn can carry, `order` (the cues of the
/// step's `order` list came in that order), and `disclosure:<id>` (a must-say item's required words).
pub const REQUIREMENT_CUES: [Cue; 11] = Cue::REQUIREMENTS;

/// One practice drill: a scenario, a customer persona, the customer's lines and what each reply needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Drill {
    /// = file name without `.toml` (ASCII, kebab-case); `huashu drill` also accepts `name`.
    pub id: String,
    /// What trainees call it (物流延误).
    pub name: String,
    /// The situation, shown before the first line.
    pub scenario: String,
    /// Who the customer is and how they behave.
    pub persona: String,
    /// Bundled ruleset that judges the replies; default: the ruleset the drill lives in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ruleset: Option<String>,
    /// Passes at this score (0–100) or above, with no critical finding.
    pub pass_mark: u32,
    /// Coaching tips by weakness (`empathy`, `order`, `forbidden`, a rule id, …); override the ruleset's.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub tips: std::collections::BTreeMap<String, String>,
    /// The customer's lines, in order; the trainee answers each.
    #[serde(rename = "step")]
    pub steps: Vec<Step>,
    /// Scripted runs, checked by the tests.
    #[serde(default, rename = "example", skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<DrillExample>,
    #[serde(skip)]
    #[schemars(skip)]
    pub source: Source,
}

/// One customer line and what the trainee's reply to it must contain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// What the customer says (unless a branch of the previous step replaced it).
    pub customer: String,
    /// Cues the reply must carry (`empathy`, `solution`, `commitment`, `time`, `identity`, `disclosure:FD001`…).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub require: Vec<String>,
    /// These cues, when present, must come in this order (empathy before solution before commitment).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order: Vec<String>,
    /// Finding categories that make the step fail outright (score 0), beyond the usual deduction.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forbid: Vec<Category>,
    /// A model answer, shown after the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// How the customer reacts to the reply: the first branch that holds replaces the next step's line.
    #[serde(default, rename = "branch", skip_serializing_if = "Vec::is_empty")]
    pub branches: Vec<Branch>,
}

/// A customer reaction keyed on what the trainee said. Exactly one of `has`, `lacks`, `finding`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Branch {
    /// The reply carried this cue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has: Option<String>,
    /// The reply lacked this cue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lacks: Option<String>,
    /// The reply had a finding of this category (or `any`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding: Option<String>,
    /// What the customer says next.
    pub customer: String,
}

/// A scripted run: the trainee's replies and the verdict they must get.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DrillExample {
    pub replies: Vec<String>,
    pub passes: bool,
    /// The exact score, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<u32>,
    /// Weaknesses the summary must name (`empathy`, `forbidden`, …), when given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weaknesses: Vec<String>,
}

impl Drill {
    /// The ruleset that judges this drill.
    pub fn ruleset_name(&self) -> &str {
        self.ruleset.as_deref().unwrap_or("zh-CN")
    }

    /// Parses one drill file; `default_ruleset` is the ruleset it lives in.
    ///
    /// # Errors
    /// Invalid TOML or an invalid field, with the file and line.
    pub fn parse(label: &str, text: &str, default_ruleset: &str) -> Result<Drill, RulesetError> {
        let mut d: Drill =
            toml::from_str(text).map_err(|e| RulesetError::from_toml(label, text, &e))?;
        d.source = Source {
            file: label.to_string(),
            text: text.to_string(),
        };
        if d.ruleset.is_none() {
            d.ruleset = Some(default_ruleset.to_string());
        }
        validate(&d)?;
        Ok(d)
    }

    /// Every bundled drill, in ruleset then id order.
    ///
    /// # Errors
    /// A bundled drill that fails to parse (a build defect, caught by the tests).
    pub fn builtin_all() -> Result<Vec<Drill>, RulesetError> {
        let mut out = Vec::new();
        for (path, text) in embedded::FILES {
            let mut parts = path.split('/');
            let (Some(set), Some("drills"), Some(file), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            if file.ends_with(".toml") {
                out.push(Drill::parse(&format!("rulesets/{path}"), text, set)?);
            }
        }
        Ok(out)
    }

    /// The drills of a ruleset directory (`DIR/drills/*.toml`), in id order.
    ///
    /// # Errors
    /// An unreadable file or an invalid drill.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Vec<Drill>, RulesetError> {
        let dir = dir.as_ref();
        let set = Ruleset::load_dir(dir)?.manifest.name;
        let drills = dir.join("drills");
        let mut paths = Vec::new();
        if let Ok(entries) = fs::read_dir(&drills) {
            for e in entries.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "toml") {
                    paths.push(p);
                }
            }
        }
        paths.sort();
        let mut out = Vec::new();
        for p in paths {
            let label = p.display().to_string();
            let text = fs::read_to_string(&p).map_err(|e| RulesetError::Io {
                path: label.clone(),
                message: e.to_string(),
            })?;
            out.push(Drill::parse(&label, &text, &set)?);
        }
        Ok(out)
    }
}

/// Whether `name` is something a requirement, an order list or a branch may name.
pub fn known_requirement(name: &str) -> bool {
    Cue::from_name(name).is_some_and(|c| REQUIREMENT_CUES.contains(&c))
        || name
            .strip_prefix("disclosure:")
            .is_some_and(|id| !id.is_empty())
}

fn validate(d: &Drill) -> Result<(), RulesetError> {
    let text = &d.source.text;
    let invalid = |field: &str, key: &str, message: String| RulesetError::Invalid {
        file: d.source.file.clone(),
        line: line_of(text, key),
        field: field.to_string(),
        message,
    };
    let stem = d
        .source
        .file
        .rsplit(['/', '\\'])
        .next()
        .and_then(|f| f.strip_suffix(".toml"));
    if d.id.is_empty()
        || !d
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(invalid(
            "id",
            "id",
            format!("`{}` is not a valid drill id (a-z, 0-9 and -)", d.id),
        ));
    }
    if let Some(stem) = stem {
        if stem != d.id {
            return Err(invalid(
                "id",
                "id",
                format!("id `{}` does not match the file name `{stem}.toml`", d.id),
            ));
        }
    }
    for (field, v) in [
        ("name", &d.name),
        ("scenario", &d.scenario),
        ("persona", &d.persona),
    ] {
        if v.trim().is_empty() {
            return Err(invalid(field, field, "must not be empty".into()));
        }
    }
    if d.pass_mark > 100 {
        return Err(invalid(
            "pass_mark",
            "pass_mark",
            format!("{} is over 100", d.pass_mark),
        ));
    }
    if d.steps.is_empty() {
        return Err(invalid(
            "step",
            "id",
            "a drill needs at least one [[step]]".into(),
        ));
    }
    for (i, s) in d.steps.iter().enumerate() {
        let field = |f: &str| format!("step[{i}].{f}");
        if s.customer.trim().is_empty() {
            return Err(invalid(
                &field("customer"),
                "customer",
                "must not be empty".into(),
            ));
        }
        for r in s.require.iter().chain(&s.order) {
            if !known_requirement(r) {
                return Err(invalid(
                    &field("require"),
                    "require",
                    format!(
                        "unknown requirement `{r}` (known: {}, disclosure:<id>)",
                        REQUIREMENT_CUES.map(Cue::name).join(", ")
                    ),
                ));
            }
        }
        if s.order.len() == 1 {
            return Err(invalid(
                &field("order"),
                "order",
                "an order needs at least two cues".into(),
            ));
        }
        for (j, b) in s.branches.iter().enumerate() {
            let bf = format!("step[{i}].branch[{j}]");
            let set = [&b.has, &b.lacks, &b.finding]
                .iter()
                .filter(|x| x.is_some())
                .count();
            if set != 1 {
                return Err(invalid(
                    &bf,
                    "customer",
                    "a branch needs exactly one of `has`, `lacks`, `finding`".into(),
                ));
            }
            if let Some(c) = b.has.as_ref().or(b.lacks.as_ref()) {
                if !known_requirement(c) {
                    return Err(invalid(&bf, "has", format!("unknown cue `{c}`")));
                }
            }
            if let Some(c) = &b.finding {
                if c != "any" && Category::parse(c).is_none() {
                    return Err(invalid(
                        &bf,
                        "finding",
                        format!("unknown category `{c}` (or `any`)"),
                    ));
                }
            }
            if b.customer.trim().is_empty() {
                return Err(invalid(&bf, "customer", "must not be empty".into()));
            }
        }
    }
    if d.examples.len() < 2 {
        return Err(invalid(
            "example",
            "id",
            "a drill needs a passing and a failing [[example]]".into(),
        ));
    }
    if !d.examples.iter().any(|e| e.passes) || !d.examples.iter().any(|e| !e.passes) {
        return Err(invalid(
            "example",
            "passes",
            "a drill needs a passing and a failing [[example]]".into(),
        ));
    }
    for (i, e) in d.examples.iter().enumerate() {
        if e.replies.len() != d.steps.len() {
            return Err(invalid(
                &format!("example[{i}].replies"),
                "replies",
                format!("{} replies for {} steps", e.replies.len(), d.steps.len()),
            ));
        }
    }
    Ok(())
}

/// JSON Schema of a drill file.
pub fn drill_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Drill)).unwrap_or_default()
}
