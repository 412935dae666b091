//! A ruleset's own tests: every rule's examples, and the checks that span the whole ruleset
//! (suggestions never trigger a rule, rewrites settle, no duplicate phrases). `huashu check` prints this.

use std::collections::HashSet;

use huashu_rules::{Applicability, Category, Role, RoleScope, Rule};

use crate::{Engine, LastExchange, Matcher};

/// Fewest `bad` and `ok` examples a rule must carry.
pub const MIN_EXAMPLES: usize = 2;

/// One thing wrong with a ruleset, located in a rule file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    pub rule: String,
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: rule {}: {}",
            self.file, self.line, self.rule, self.message
        )
    }
}

#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Outcome {
    pub rules: usize,
    pub examples: usize,
    pub problems: Vec<Problem>,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Runs every check on the engine's ruleset.
pub fn run(engine: &Engine) -> Outcome {
    let mut out = Outcome::default();
    for rule in &engine.ruleset().rules {
        out.rules += 1;
        check_rule(engine.matcher(), rule, &mut out);
    }
    // Preview rules run on their own matcher; their suggestions must not be flagged by an enforced rule
    // either, or enforcing them later would offer a non-compliant rewrite.
    if let Some(previews) = engine.preview_engine() {
        for rule in &previews.ruleset().rules {
            out.rules += 1;
            check_rule(previews, rule, &mut out);
            for s in &rule.suggest {
                let Some(text) = &s.replace else { continue };
                let found = engine.check(example_role(rule, None), text);
                if !found.is_empty() {
                    out.problems.push(Problem {
                        rule: rule.id.clone(),
                        file: rule.source.file.clone(),
                        line: rule.source.line_of(text).unwrap_or(1),
                        message: format!(
                            "suggested replacement {text:?} itself triggers {}",
                            ids(&found)
                        ),
                    });
                }
            }
        }
    }
    out
}

fn example_role(rule: &Rule, role: Option<Role>) -> Role {
    role.unwrap_or(match rule.role {
        RoleScope::Customer => Role::Customer,
        RoleScope::Agent | RoleScope::Any => Role::Agent,
    })
}

fn check_rule(engine: &Matcher, rule: &Rule, out: &mut Outcome) {
    let mut problem = |needle: &str, message: String| {
        out.problems.push(Problem {
            rule: rule.id.clone(),
            file: rule.source.file.clone(),
            line: rule.source.line_of(needle).unwrap_or(1),
            message,
        });
    };
    let bad = rule.example.iter().filter(|e| e.bad.is_some()).count();
    let ok = rule.example.iter().filter(|e| e.ok.is_some()).count();
    if bad < MIN_EXAMPLES || ok < MIN_EXAMPLES {
        problem(
            "[[example]]",
            format!(
                "needs at least {MIN_EXAMPLES} `bad` and {MIN_EXAMPLES} `ok` examples (has {bad} and {ok})"
            ),
        );
    }
    let needs_replacement = matches!(rule.category, Category::Forbidden | Category::Promise);
    if needs_replacement && !rule.suggest.iter().any(|s| s.replace.is_some()) {
        problem(
            "[match]",
            "a forbidden or promise rule needs a `[[suggest]] replace` with the compliant phrasing"
                .into(),
        );
    }
    if rule.category == Category::Privacy && rule.suggest.is_empty() {
        problem(
            "[match]",
            "a privacy rule needs a `[[suggest]] mask`".into(),
        );
    }
    for re in &rule.matcher.regex {
        for lint in crate::lint::regex(engine, re) {
            problem(re, lint);
        }
    }
    let classes = &engine.ruleset().manifest.classes;
    for (class, n, word) in huashu_rules::classes::spelled_out(&rule.source.text, classes) {
        problem(
            word,
            format!(
                "spells out {n} of the {} words of class `{class}`: name `{{{class}}}` instead (a copy drifts from the class)",
                classes[class].len()
            ),
        );
    }
    let mut seen = HashSet::new();
    for p in &rule.matcher.phrases {
        let n = engine.normalize(p).as_str().to_string();
        if !seen.insert(n.clone()) {
            problem(
                p,
                format!(
                    "phrase {p:?} duplicates another phrase of this rule after normalisation ({n:?})"
                ),
            );
        }
    }
    for s in &rule.suggest {
        let Some(text) = &s.replace else { continue };
        let found = engine.check(example_role(rule, None), text);
        if !found.is_empty() {
            problem(
                text,
                format!(
                    "suggested replacement {text:?} itself triggers {}",
                    ids(&found)
                ),
            );
        }
    }
    let m = &rule.matcher;
    let exchange = !m.only_after_exchange_has.is_empty() || !m.unless_after_exchange_has.is_empty();
    let looks_back =
        exchange || !m.only_after_turn_has.is_empty() || !m.unless_after_turn_has.is_empty();
    for ex in &rule.example {
        let role = example_role(rule, ex.role);
        let previous = ex.previous.as_deref();
        let own = ex.own_previous.as_deref();
        let after = LastExchange {
            previous,
            own_previous: own,
        };
        out.examples += 1;
        if let (Some(p), false) = (previous, looks_back) {
            problem(
                p,
                format!(
                    "example's `previous` {p:?} has no effect: the rule has no `only_after_turn_has`, `unless_after_turn_has` or `…_after_exchange_has`"
                ),
            );
        }
        if let Some(o) = own {
            if !exchange {
                problem(
                    o,
                    format!(
                        "example's `own_previous` {o:?} has no effect: the rule has no `only_after_exchange_has` or `unless_after_exchange_has`"
                    ),
                );
            } else if previous.is_none() {
                problem(
                    o,
                    format!(
                        "example's `own_previous` {o:?} has no effect without `previous` (the turn that answered it)"
                    ),
                );
            }
        }
        if let Some(text) = &ex.bad {
            let found = engine.scan_turn(role, text, after, 0);
            if !found.iter().any(|f| *f.rule_id == *rule.id) {
                let others = if found.is_empty() {
                    String::new()
                } else {
                    format!(" (found {})", ids(&found))
                };
                problem(
                    text,
                    format!("bad example {text:?} does not trigger this rule{others}"),
                );
                continue;
            }
            let rewritten = crate::apply_suggestions(text, &found);
            if let Some(fixed) = &ex.fixed {
                match engine.compliant_rewrite(role, text, &found) {
                    Ok(r) if &r == fixed => {}
                    Ok(r) => problem(
                        fixed,
                        format!("rewrite of {text:?} is {r:?}, expected {fixed:?}"),
                    ),
                    Err(w) => problem(
                        fixed,
                        format!("rewrite of {text:?} is withheld ({w}), expected {fixed:?}"),
                    ),
                }
            }
            let before: HashSet<&str> = found.iter().map(|f| &*f.rule_id).collect();
            let again = engine.scan_turn(role, &rewritten, after, 0);
            let unsettled: Vec<_> = again
                .iter()
                .filter(|f| {
                    let rewritable = engine.ruleset().rule(&f.rule_id).is_some_and(|r| {
                        r.suggest
                            .iter()
                            .any(|s| s.applicability == Applicability::Safe)
                    });
                    rewritable || !before.contains(&*f.rule_id)
                })
                .cloned()
                .collect();
            if !unsettled.is_empty() {
                problem(
                    text,
                    format!(
                        "rewrite {rewritten:?} of a bad example still triggers {}",
                        ids(&unsettled)
                    ),
                );
            }
        }
        if let Some(text) = &ex.ok {
            let found = engine.scan_turn(role, text, after, 0);
            if let Some(f) = found.iter().find(|f| *f.rule_id == *rule.id) {
                problem(
                    text,
                    format!(
                        "ok example {text:?} triggers this rule on {:?} (chars {}..{})",
                        f.matched, f.char_start, f.char_end
                    ),
                );
            }
        }
    }
}

fn ids(found: &[crate::Finding]) -> String {
    found
        .iter()
        .map(|f| format!("{} on {:?}", f.rule_id, f.matched))
        .collect::<Vec<_>>()
        .join(", ")
}
