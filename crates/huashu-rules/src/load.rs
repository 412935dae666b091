//! Loading rulesets from a directory or from the embedded copies, with errors that name file, line and field.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::RulesetError;
use crate::model::{Manifest, Rule, Scoring, Source};
use crate::{Ruleset, embedded};

/// Most levels of `extends` a ruleset may chain; deeper means a cycle or a mistake.
const MAX_EXTENDS_DEPTH: usize = 8;

/// A ruleset's files before parsing: the manifest and its rule files, each with a label for errors.
struct Files {
    manifest: (String, String),
    rules: Vec<(String, String)>,
}

impl Ruleset {
    /// Loads a ruleset directory (`ruleset.toml` + `rules/**/*.toml`) and the rulesets it extends, looked up
    /// first as sibling directories, then among the bundled ones.
    ///
    /// # Errors
    /// A missing or unreadable file, invalid TOML, an unknown or invalid field (named with file and line),
    /// a duplicate rule id, or an unknown ruleset in `extends`.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Ruleset, RulesetError> {
        let dir = dir.as_ref();
        let resolver = |name: &str| -> Result<Files, RulesetError> {
            let sibling = dir.parent().map(|p| p.join(name));
            match sibling {
                Some(p) if p.join("ruleset.toml").is_file() => read_dir_files(&p),
                _ => embedded_files(name),
            }
        };
        assemble(read_dir_files(dir)?, &resolver, 0)
    }

    /// A bundled ruleset by name (`zh-CN`, …), embedded in the binary.
    ///
    /// # Errors
    /// An unknown name; a bundled ruleset that fails to parse (a build defect, caught by the tests).
    pub fn builtin(name: &str) -> Result<Ruleset, RulesetError> {
        assemble(embedded_files(name)?, &embedded_files, 0)
    }

    /// Either a bundled name or a directory path: what a `--ruleset` flag takes.
    ///
    /// # Errors
    /// As [`Ruleset::load_dir`] or [`Ruleset::builtin`].
    pub fn load(name_or_dir: &str) -> Result<Ruleset, RulesetError> {
        let path = Path::new(name_or_dir);
        if path.is_dir() {
            Ruleset::load_dir(path)
        } else if embedded::names().any(|n| n == name_or_dir) {
            Ruleset::builtin(name_or_dir)
        } else {
            Err(RulesetError::NotFound {
                name: name_or_dir.to_string(),
                known: embedded::names().collect::<Vec<_>>().join(", "),
            })
        }
    }

    /// Names of the bundled rulesets.
    pub fn builtin_names() -> Vec<&'static str> {
        embedded::names().collect()
    }

    /// Parses one rule file's text (used by editors and tests).
    ///
    /// # Errors
    /// Invalid TOML or an invalid field, with the line.
    pub fn parse_rule(label: &str, text: &str) -> Result<Rule, RulesetError> {
        parse_rule(label, text)
    }
}

fn embedded_files(name: &str) -> Result<Files, RulesetError> {
    let prefix = format!("{name}/");
    let mut manifest = None;
    let mut rules = Vec::new();
    for (path, text) in embedded::FILES {
        let Some(rest) = path.strip_prefix(&prefix) else {
            continue;
        };
        let label = format!("rulesets/{path}");
        if rest == "ruleset.toml" {
            manifest = Some((label, text.to_string()));
        } else if rest.starts_with("rules/") && rest.ends_with(".toml") {
            rules.push((label, text.to_string()));
        }
    }
    let manifest = manifest.ok_or_else(|| RulesetError::NotFound {
        name: name.to_string(),
        known: embedded::names().collect::<Vec<_>>().join(", "),
    })?;
    Ok(Files { manifest, rules })
}

fn read_dir_files(dir: &Path) -> Result<Files, RulesetError> {
    let manifest_path = dir.join("ruleset.toml");
    let manifest = (display(&manifest_path), read(&manifest_path)?);
    let mut paths = Vec::new();
    let rules_dir = dir.join("rules");
    if rules_dir.is_dir() {
        collect_toml(&rules_dir, &mut paths)?;
    }
    paths.sort();
    let rules = paths
        .into_iter()
        .map(|p| Ok((display(&p), read(&p)?)))
        .collect::<Result<Vec<_>, RulesetError>>()?;
    Ok(Files { manifest, rules })
}

fn collect_toml(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), RulesetError> {
    let entries = fs::read_dir(dir).map_err(|e| RulesetError::Io {
        path: display(dir),
        message: e.to_string(),
    })?;
    for entry in entries {
        let entry = entry.map_err(|e| RulesetError::Io {
            path: display(dir),
            message: e.to_string(),
        })?;
        let path = entry.path();
        if path.is_dir() {
            collect_toml(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    Ok(())
}

fn read(path: &Path) -> Result<String, RulesetError> {
    let bytes = fs::read(path).map_err(|e| RulesetError::Io {
        path: display(path),
        message: e.to_string(),
    })?;
    String::from_utf8(bytes).map_err(|e| RulesetError::Io {
        path: display(path),
        message: format!(
            "not UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ),
    })
}

fn display(p: &Path) -> String {
    p.display().to_string()
}

fn assemble(
    files: Files,
    resolve: &dyn Fn(&str) -> Result<Files, RulesetError>,
    depth: usize,
) -> Result<Ruleset, RulesetError> {
    let (manifest_label, manifest_text) = &files.manifest;
    let manifest: Manifest = toml::from_str(manifest_text)
        .map_err(|e| RulesetError::from_toml(manifest_label, manifest_text, &e))?;
    if depth > MAX_EXTENDS_DEPTH {
        return Err(RulesetError::Invalid {
            file: manifest_label.clone(),
            line: line_of(manifest_text, "extends"),
            field: "extends".into(),
            message: format!("more than {MAX_EXTENDS_DEPTH} levels of `extends` (a cycle?)"),
        });
    }
    // Inherited rules first, so that a pack's own rule with the same id replaces the base one.
    let mut by_id: BTreeMap<String, Rule> = BTreeMap::new();
    let mut allow = Vec::new();
    let mut scoring = Scoring::default();
    for base in &manifest.extends {
        let base_set = assemble(resolve(base)?, resolve, depth + 1)?;
        allow.extend(base_set.manifest.allow.iter().cloned());
        scoring = merge_scoring(scoring, base_set.manifest.scoring);
        for rule in base_set.rules {
            by_id.insert(rule.id.clone(), rule);
        }
    }
    let mut own: HashMap<String, String> = HashMap::new();
    for (label, text) in &files.rules {
        let rule = parse_rule(label, text)?;
        if let Some(first) = own.insert(rule.id.clone(), label.clone()) {
            return Err(RulesetError::DuplicateId {
                id: rule.id,
                first,
                second: label.clone(),
            });
        }
        by_id.insert(rule.id.clone(), rule);
    }
    for id in &manifest.disable {
        if by_id.remove(id).is_none() {
            return Err(RulesetError::Invalid {
                file: manifest_label.clone(),
                line: line_of(manifest_text, "disable"),
                field: "disable".into(),
                message: format!("no rule `{id}` to switch off (neither inherited nor its own)"),
            });
        }
    }
    let mut manifest = manifest;
    allow.append(&mut manifest.allow);
    allow.dedup();
    manifest.allow = allow;
    manifest.scoring = merge_scoring(scoring, manifest.scoring);
    Ok(Ruleset {
        manifest,
        rules: by_id.into_values().collect(),
    })
}

fn parse_rule(label: &str, text: &str) -> Result<Rule, RulesetError> {
    let mut rule: Rule =
        toml::from_str(text).map_err(|e| RulesetError::from_toml(label, text, &e))?;
    rule.source = Source {
        file: label.to_string(),
        text: text.to_string(),
    };
    crate::validate::rule_fields(&rule)?;
    Ok(rule)
}

/// 1-based line where `key` is first assigned, or 1.
pub(crate) fn line_of(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            let t = l.trim_start();
            t.starts_with(key) && t[key.len()..].trim_start().starts_with('=')
        })
        .map_or(1, |i| i + 1)
}

/// A pack's scoring over its base's: cue lists grow, checks and settings the pack states win, disclosures add up.
fn merge_scoring(base: Scoring, pack: Scoring) -> Scoring {
    let d = Scoring::default();
    let mut out = base;
    if pack.pass_mark != d.pass_mark {
        out.pass_mark = pack.pass_mark;
    }
    if pack.fatal_cap != d.fatal_cap {
        out.fatal_cap = pack.fatal_cap;
    }
    if pack.deduct != d.deduct {
        out.deduct = pack.deduct;
    }
    if pack.timing != d.timing {
        out.timing = pack.timing;
    }
    if pack.dialogue != d.dialogue {
        out.dialogue = pack.dialogue;
    }
    out.require_identity |= pack.require_identity;
    for (name, cue) in pack.cues {
        match out.cues.get_mut(&name) {
            Some(have) => {
                have.phrases.extend(cue.phrases);
                have.regex.extend(cue.regex);
                have.unless_followed_by.extend(cue.unless_followed_by);
                have.unless_preceded_by.extend(cue.unless_preceded_by);
                have.unless_before.extend(cue.unless_before);
                have.unless_after.extend(cue.unless_after);
                have.unless_sentence_has.extend(cue.unless_sentence_has);
                have.unless_turn_has.extend(cue.unless_turn_has);
                have.only_if_sentence_has.extend(cue.only_if_sentence_has);
            }
            None => {
                out.cues.insert(name, cue);
            }
        }
    }
    out.checks.extend(pack.checks);
    out.disclosure.extend(pack.disclosure);
    out
}
