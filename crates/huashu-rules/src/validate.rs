//! Field checks that TOML types alone cannot express. Matching-level checks (regex syntax, examples)
//! belong to the engine.

use crate::error::RulesetError;
use crate::load::line_of;
use crate::model::Rule;

/// Widest context window a rule may ask for, in characters; turns are short.
pub const MAX_WINDOW: usize = 64;

pub(crate) fn rule_fields(rule: &Rule) -> Result<(), RulesetError> {
    let invalid = |field: &str, key: &str, message: String| RulesetError::Invalid {
        file: rule.source.file.clone(),
        line: line_of(&rule.source.text, key),
        field: field.to_string(),
        message,
    };
    if rule.id.trim().is_empty()
        || !rule
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(invalid(
            "id",
            "id",
            format!(
                "`{}` is not a valid id (ASCII letters, digits, - and _)",
                rule.id
            ),
        ));
    }
    let stem = rule
        .source
        .file
        .rsplit(['/', '\\'])
        .next()
        .and_then(|f| f.strip_suffix(".toml"));
    if let Some(stem) = stem {
        if stem != rule.id {
            return Err(invalid(
                "id",
                "id",
                format!(
                    "id `{}` does not match the file name `{stem}.toml`",
                    rule.id
                ),
            ));
        }
    }
    if rule.name.trim().is_empty() {
        return Err(invalid("name", "name", "must not be empty".into()));
    }
    if rule.message.trim().is_empty() {
        return Err(invalid("message", "message", "must not be empty".into()));
    }
    let m = &rule.matcher;
    if m.phrases.is_empty() && m.regex.is_empty() {
        return Err(invalid(
            "match",
            "phrases",
            "a rule needs at least one of `match.phrases` or `match.regex`".into(),
        ));
    }
    if let Some(p) = m.phrases.iter().find(|p| p.trim().is_empty()) {
        return Err(invalid(
            "match.phrases",
            "phrases",
            format!("empty phrase {p:?}"),
        ));
    }
    if m.before_window > MAX_WINDOW {
        return Err(invalid(
            "match.before_window",
            "before_window",
            format!("{} is over the maximum of {MAX_WINDOW}", m.before_window),
        ));
    }
    if m.after_window > MAX_WINDOW {
        return Err(invalid(
            "match.after_window",
            "after_window",
            format!("{} is over the maximum of {MAX_WINDOW}", m.after_window),
        ));
    }
    for (i, s) in rule.suggest.iter().enumerate() {
        match (&s.replace, &s.mask) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    &format!("suggest[{i}]"),
                    "mask",
                    "give `replace` or `mask`, not both".into(),
                ));
            }
            (None, None) => {
                return Err(invalid(
                    &format!("suggest[{i}]"),
                    "[[suggest]]",
                    "needs `replace` or `mask`".into(),
                ));
            }
            _ => {}
        }
    }
    for (i, ex) in rule.example.iter().enumerate() {
        let field = format!("example[{i}]");
        match (&ex.bad, &ex.ok) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    &field,
                    "ok",
                    "an example is either `bad` or `ok`, not both".into(),
                ));
            }
            (None, None) => {
                return Err(invalid(&field, "[[example]]", "needs `bad` or `ok`".into()));
            }
            (None, Some(_)) if ex.fixed.is_some() => {
                return Err(invalid(
                    &field,
                    "fixed",
                    "`fixed` belongs to a `bad` example".into(),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}
