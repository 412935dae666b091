//! Field checks that TOML types alone cannot express. Matching-level checks (regex syntax, examples)
//! belong to the engine.

use crate::error::{RulesetError, line_of};
use crate::rule::Rule;

/// Widest context window a rule may ask for, in characters; turns are short.
pub const MAX_WINDOW: usize = 64;

/// 1-based line of `key = …` inside the `i`-th `[[table]]` of `text`, else of that table's header, else 1:
/// an error in the fifth example points at the fifth example, not at the top of the file.
fn table_line(text: &str, table: &str, i: usize, key: Option<&str>) -> usize {
    let header = format!("[[{table}]]");
    let lines: Vec<&str> = text.lines().collect();
    let Some(start) = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.trim() == header)
        .map(|(n, _)| n)
        .nth(i)
    else {
        return 1;
    };
    let end = lines[start + 1..]
        .iter()
        .position(|l| l.trim_start().starts_with('['))
        .map_or(lines.len(), |p| start + 1 + p);
    key.and_then(|k| {
        lines[start + 1..end].iter().position(|l| {
            let t = l.trim_start();
            t.starts_with(k) && t[k.len()..].trim_start().starts_with('=')
        })
    })
    .map_or(start + 1, |p| start + 2 + p)
}

pub(crate) fn rule_fields(rule: &Rule) -> Result<(), RulesetError> {
    let in_table = |field: String, table: &str, i: usize, key: Option<&str>, message: String| {
        RulesetError::Invalid {
            file: rule.source.file.clone(),
            line: table_line(&rule.source.text, table, i, key),
            field,
            message,
        }
    };
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
                return Err(in_table(
                    format!("suggest[{i}]"),
                    "suggest",
                    i,
                    Some("mask"),
                    "give `replace` or `mask`, not both".into(),
                ));
            }
            (None, None) => {
                return Err(in_table(
                    format!("suggest[{i}]"),
                    "suggest",
                    i,
                    None,
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
                return Err(in_table(
                    field,
                    "example",
                    i,
                    Some("ok"),
                    "an example is either `bad` or `ok`, not both".into(),
                ));
            }
            (None, None) => {
                return Err(in_table(
                    field,
                    "example",
                    i,
                    None,
                    "needs `bad` or `ok`".into(),
                ));
            }
            (None, Some(_)) if ex.fixed.is_some() => {
                return Err(in_table(
                    field,
                    "example",
                    i,
                    Some("fixed"),
                    "`fixed` belongs to a `bad` example".into(),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::{Ruleset, RulesetError};

    const HEAD: &str = "id = \"X1\"\nname = \"x\"\ncategory = \"forbidden\"\nseverity = \"minor\"\nmessage = \"m\"\n[match]\nphrases = [\"a\"]\n";

    fn line_of_error(text: &str) -> (usize, String) {
        match Ruleset::parse_rule("X1.toml", text) {
            Err(RulesetError::Invalid { line, field, .. }) => (line, field),
            other => panic!("expected an invalid field, got {other:?}"),
        }
    }

    #[test]
    fn suggest_and_example_errors_point_at_their_own_table() {
        // Line 8 is the first [[suggest]], line 10 the second (with neither replace nor mask).
        let text = format!(
            "{HEAD}[[suggest]]\nreplace = \"r\"\n[[suggest]]\napplicability = \"review\"\n"
        );
        assert_eq!(line_of_error(&text), (10, "suggest[1]".to_string()));
        let text = format!(
            "{HEAD}[[example]]\nbad = \"a\"\n[[example]]\nok = \"b\"\n[[example]]\nok = \"c\"\nfixed = \"d\"\n"
        );
        assert_eq!(line_of_error(&text), (14, "example[2]".to_string()));
        let text =
            format!("{HEAD}[[example]]\nbad = \"a\"\n[[example]]\n\n[[example]]\nok = \"c\"\n");
        assert_eq!(line_of_error(&text), (10, "example[1]".to_string()));
    }
}
