use std::process::ExitCode;

use anyhow::{Context, Result};
use huashu::{Engine, LearnedModel, Ruleset, ruleset_tests};

use crate::Format;
use crate::batch::BatchArgs;

/// The ruleset `ruleset` (a bundled name or a directory) with the rules `disable` switched off, compiled.
/// The engine of `--ruleset`, with `--disable`d rules off; `learned` adds the ruleset's learned models
/// (batch scoring; live assist and the benchmark run the rules alone).
pub fn load_engine(ruleset: &str, disable: &[String], learned: bool) -> Result<Engine> {
    let mut rs =
        Ruleset::load(ruleset).with_context(|| format!("cannot load ruleset {ruleset:?}"))?;
    rs.disable(disable).context("--disable")?;
    let engine = Engine::new(rs).with_context(|| format!("cannot compile ruleset {ruleset:?}"))?;
    if !learned {
        return Ok(engine);
    }
    let models = LearnedModel::load_all(ruleset)
        .with_context(|| format!("cannot load the learned models of {ruleset:?}"))?;
    engine
        .with_learned(&models)
        .with_context(|| format!("cannot compile the learned models of {ruleset:?}"))
}

/// `huashu score`: see [`crate::batch`].
pub fn score(
    ruleset: &str,
    format: Format,
    files: &[String],
    batch: &BatchArgs,
) -> Result<ExitCode> {
    let engine = load_engine(ruleset, &batch.disable, !batch.rules_only)?;
    crate::batch::score(engine, format, files, batch)
}

/// `huashu scan`: see [`crate::batch`].
pub fn scan(
    ruleset: &str,
    previous: Option<String>,
    format: Format,
    files: &[String],
    batch: &BatchArgs,
) -> Result<ExitCode> {
    let engine = load_engine(ruleset, &batch.disable, !batch.rules_only)?;
    crate::batch::scan(engine, previous, format, files, batch)
}

/// `huashu test-ruleset` (old name `huashu check`): validate, run every rule's examples, lint.
pub fn test_ruleset(ruleset: &str) -> Result<ExitCode> {
    let engine = match load_engine(ruleset, &[], false) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("huashu check: {e:#}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let outcome = ruleset_tests::run(&engine);
    for p in &outcome.problems {
        crate::outln!("{p}")?;
    }
    let tag = engine.ruleset().version_tag();
    if outcome.passed() {
        crate::outln!(
            "{tag}: {} rules, {} examples: all passed",
            outcome.rules,
            outcome.examples
        )?;
        Ok(ExitCode::SUCCESS)
    } else {
        crate::outln!(
            "{tag}: {} rules, {} examples: {} problem(s)",
            outcome.rules,
            outcome.examples,
            outcome.problems.len()
        )?;
        Ok(ExitCode::FAILURE)
    }
}

/// `words` with each run that is a whole class, in the class's order, written as its `{name}`.
fn fold_classes(
    words: &[String],
    classes: &std::collections::BTreeMap<String, Vec<String>>,
) -> Vec<String> {
    let mut out = Vec::with_capacity(words.len());
    let mut i = 0;
    'next: while i < words.len() {
        for (name, class) in classes {
            if words[i..].starts_with(class) {
                out.push(format!("{{{name}}}"));
                i += class.len();
                continue 'next;
            }
        }
        out.push(words[i].clone());
        i += 1;
    }
    out
}

/// A learned model as `explain` shows it: what it flags, where it lives, and the n-grams that weigh most either way.
fn explain_model(m: &LearnedModel) -> String {
    let mut s = format!(
        "{} learned model ({}, minor; batch scoring only, docs/learned.md)\n  message:   {}\n",
        m.id,
        m.category.as_str(),
        m.message
    );
    if let Some(sug) = &m.suggestion {
        s.push_str(&format!("  suggest:   {sug} (for review; never applied)\n"));
    }
    s.push_str(&format!(
        "  file:      {}\n  threshold: {} (bias {}, {} n-grams)\n",
        m.file,
        m.threshold,
        m.bias,
        m.weights.len()
    ));
    let mut by_weight: Vec<&(String, f32)> = m.weights.iter().collect();
    by_weight.sort_by(|a, b| b.1.total_cmp(&a.1));
    let show = |v: &mut dyn Iterator<Item = &&(String, f32)>| -> String {
        v.take(15)
            .map(|(g, w)| format!("{g} {w:+.2}"))
            .collect::<Vec<_>>()
            .join(" · ")
    };
    s.push_str(&format!("  for:       {}\n", show(&mut by_weight.iter())));
    s.push_str(&format!(
        "  against:   {}\n",
        show(&mut by_weight.iter().rev())
    ));
    s
}

pub fn explain(ruleset: &str, id: &str) -> Result<ExitCode> {
    let engine = load_engine(ruleset, &[], false)?;
    let Some(rule) = engine.rule(id) else {
        if let Some(model) = LearnedModel::load_all(ruleset)?
            .into_iter()
            .find(|m| m.id == id)
        {
            crate::out!("{}", explain_model(&model))?;
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!(
            "huashu explain: no rule {id:?} in {}",
            engine.ruleset().version_tag()
        );
        return Ok(ExitCode::FAILURE);
    };
    let mut s = String::new();
    s.push_str(&format!(
        "{} {} ({}, {}, {:?} turns)\n",
        rule.id,
        rule.name,
        rule.category.as_str(),
        rule.severity.as_str(),
        rule.role
    ));
    s.push_str(&format!("  message: {}\n", rule.message));
    if !rule.why.is_empty() {
        s.push_str(&format!("  why:     {}\n", rule.why));
    }
    if let Some(tip) = &rule.tip {
        s.push_str(&format!("  tip:     {tip}\n"));
    }
    s.push_str(&format!("  file:    {}\n", rule.source.file));
    let m = &rule.matcher;
    // A regex is shown as written: each class's alternation folded back into its `{name}`; so is a list
    // holding a class's words one after another, as the class expands into a list.
    let classes = &engine.ruleset().manifest.classes;
    let list = |name: &str, v: &[String], s: &mut String| {
        if !v.is_empty() {
            s.push_str(&format!(
                "  {name}: {}\n",
                fold_classes(v, classes).join(" | ")
            ));
        }
    };
    let written: Vec<String> = m
        .regex
        .iter()
        .map(|r| {
            classes.iter().fold(r.clone(), |r, (name, words)| {
                r.replace(
                    &huashu::rules::classes::alternation(words),
                    &format!("{{{name}}}"),
                )
            })
        })
        .collect();
    let used: Vec<String> = classes
        .iter()
        .filter(|(name, _)| written.iter().any(|r| r.contains(&format!("{{{name}}}"))))
        .map(|(name, words)| format!("{{{name}}} = {}", words.join("|")))
        .collect();
    list("phrases", &m.phrases, &mut s);
    list("regex", &written, &mut s);
    list("classes", &used, &mut s);
    list("unless followed by", &m.unless_followed_by, &mut s);
    list("unless preceded by", &m.unless_preceded_by, &mut s);
    list(
        &format!("unless within {} chars before", m.before_window),
        &m.unless_before,
        &mut s,
    );
    list(
        &format!("unless within {} chars after", m.after_window),
        &m.unless_after,
        &mut s,
    );
    list("unless the sentence has", &m.unless_sentence_has, &mut s);
    list("unless the turn has", &m.unless_turn_has, &mut s);
    list("unless the match itself has", &m.unless_hit_has, &mut s);
    list("only if the sentence has", &m.only_if_sentence_has, &mut s);
    list(
        "only after a previous turn (other party) with",
        &m.only_after_turn_has,
        &mut s,
    );
    list(
        "unless the previous turn (other party) has",
        &m.unless_after_turn_has,
        &mut s,
    );
    list(
        "only after an exchange (previous turn or own turn it answered) with",
        &m.only_after_exchange_has,
        &mut s,
    );
    list(
        "unless the exchange (previous turn or own turn it answered) has",
        &m.unless_after_exchange_has,
        &mut s,
    );
    for sug in &rule.suggest {
        let what = sug
            .replace
            .clone()
            .unwrap_or_else(|| format!("mask {:?}", sug.mask));
        s.push_str(&format!("  suggest ({:?}): {what}\n", sug.applicability));
    }
    for ex in &rule.example {
        if let Some(p) = &ex.previous {
            s.push_str(&format!("  (after the other party's {p:?})\n"));
        }
        if let Some(b) = &ex.bad {
            s.push_str(&format!("  ✗ {b}\n"));
            if let Some(f) = &ex.fixed {
                s.push_str(&format!("    → {f}\n"));
            }
        }
        if let Some(o) = &ex.ok {
            s.push_str(&format!("  ✓ {o}\n"));
        }
    }
    crate::out!("{s}")?;
    Ok(ExitCode::SUCCESS)
}

pub fn schema(what: &str) -> Result<ExitCode> {
    let value = if what == "ruleset" {
        huashu::rules::manifest_schema()
    } else {
        huashu::rules::rule_schema()
    };
    crate::outln!("{}", serde_json::to_string_pretty(&value)?)?;
    Ok(ExitCode::SUCCESS)
}
