//! Loading rulesets from a directory or from the embedded copies, with errors that name file, line and field.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{RulesetError, line_of};
use crate::model::{Manifest, Scoring};
use crate::rule::{Rule, Source};
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

    /// Parses one rule file's text (used by editors and tests). Word classes (`{agent}`) stay as written: they
    /// belong to a ruleset and are expanded when one is loaded.
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
    let label = files.manifest.0.clone();
    let (mut ruleset, _) = assemble_stated(files, resolve, depth)?;
    // Once, over the whole chain: a base's rules see the words a pack adds to its classes.
    crate::classes::expand(&mut ruleset, &label)?;
    Ok(ruleset)
}

/// A ruleset and its `[scoring]` as stated in TOML along its `extends` chain (the keys some file sets, merged),
/// so that a pack overrides exactly the fields it states.
fn assemble_stated(
    files: Files,
    resolve: &dyn Fn(&str) -> Result<Files, RulesetError>,
    depth: usize,
) -> Result<(Ruleset, toml::Table), RulesetError> {
    let (manifest_label, manifest_text) = &files.manifest;
    let manifest: Manifest = toml::from_str(manifest_text)
        .map_err(|e| RulesetError::from_toml(manifest_label, manifest_text, &e))?;
    let own_scoring = toml::from_str::<toml::Table>(manifest_text)
        .map_err(|e| RulesetError::from_toml(manifest_label, manifest_text, &e))?
        .remove("scoring")
        .and_then(|v| match v {
            toml::Value::Table(t) => Some(t),
            _ => None,
        })
        .unwrap_or_default();
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
    crate::classes::check(&manifest.classes, manifest_label, manifest_text)?;
    let mut allow = Vec::new();
    let mut classes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut stated = toml::Table::new();
    for base in &manifest.extends {
        let (base_set, base_stated) = assemble_stated(resolve(base)?, resolve, depth + 1)?;
        allow.extend(base_set.manifest.allow.iter().cloned());
        grow(&mut classes, base_set.manifest.classes);
        merge_scoring(&mut stated, base_stated);
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
    grow(&mut classes, std::mem::take(&mut manifest.classes));
    manifest.classes = classes;
    if !manifest.extends.is_empty() {
        merge_scoring(&mut stated, own_scoring);
        manifest.scoring = toml::Value::Table(stated.clone())
            .try_into::<Scoring>()
            .map_err(|e| RulesetError::Invalid {
                file: manifest_label.clone(),
                line: line_of(manifest_text, "extends"),
                field: "scoring".into(),
                message: format!("the merged scorecard is invalid: {}", e.message().trim()),
            })?;
    } else {
        stated = own_scoring;
    }
    Ok((
        Ruleset {
            manifest,
            rules: by_id.into_values().collect(),
        },
        stated,
    ))
}

/// `more`'s classes added to `classes`: a class both name gets the words it lacks, in order.
fn grow(classes: &mut BTreeMap<String, Vec<String>>, more: BTreeMap<String, Vec<String>>) {
    for (name, words) in more {
        let have = classes.entry(name).or_default();
        for w in words {
            if !have.contains(&w) {
                have.push(w);
            }
        }
    }
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

/// A pack's `[scoring]` over its base's, as stated in TOML, key by key: cue lists grow (each list of a cue
/// gets the pack's entries appended, any other field the pack states wins), disclosures add up, and every other
/// value the pack states wins field by field (`[scoring.timing]`, `[scoring.checks.<id>]`, …), so stating one
/// field keeps the base's others, and a pack can state a value that happens to be the default.
fn merge_scoring(base: &mut toml::Table, pack: toml::Table) {
    for (key, value) in pack {
        match (key.as_str(), base.get_mut(&key), value) {
            ("cues", Some(toml::Value::Table(have)), toml::Value::Table(cues)) => {
                for (name, cue) in cues {
                    match (have.get_mut(&name), cue) {
                        (Some(toml::Value::Table(h)), toml::Value::Table(c)) => {
                            for (field, v) in c {
                                match (h.get_mut(&field), v) {
                                    (Some(toml::Value::Array(list)), toml::Value::Array(more)) => {
                                        list.extend(more);
                                    }
                                    (_, v) => {
                                        h.insert(field, v);
                                    }
                                }
                            }
                        }
                        (_, cue) => {
                            have.insert(name, cue);
                        }
                    }
                }
            }
            ("disclosure", Some(toml::Value::Array(have)), toml::Value::Array(more)) => {
                have.extend(more);
            }
            ("checks", Some(toml::Value::Table(have)), toml::Value::Table(checks)) => {
                for (id, spec) in checks {
                    match (have.get_mut(&id), spec) {
                        (Some(toml::Value::Table(h)), toml::Value::Table(s)) => h.extend(s),
                        (_, spec) => {
                            have.insert(id, spec);
                        }
                    }
                }
            }
            (_, Some(toml::Value::Table(have)), toml::Value::Table(fields)) => have.extend(fields),
            (_, _, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::PathBuf;

    use crate::Ruleset;

    /// A base ruleset `base` and a pack `pack` extending it, side by side in a fresh directory.
    fn pack_over_base(base_scoring: &str, pack_scoring: &str) -> Ruleset {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let root: PathBuf =
            std::env::temp_dir().join(format!("huashu-merge-{}-{n}", std::process::id()));
        for (name, extends, scoring) in [
            ("base", "", base_scoring),
            ("pack", "extends = [\"base\"]\n", pack_scoring),
        ] {
            let dir = root.join(name);
            fs::create_dir_all(&dir).expect("temp dir");
            let manifest = format!(
                "name = \"{name}\"\nversion = \"0.1.0\"\nlanguage = \"zh-CN\"\ndescription = \"t\"\n{extends}{scoring}"
            );
            fs::write(dir.join("ruleset.toml"), manifest).expect("write");
        }
        let rs = Ruleset::load_dir(root.join("pack")).expect("loads");
        let _ = fs::remove_dir_all(&root);
        rs
    }

    #[test]
    fn a_pack_can_set_a_value_back_to_the_default() {
        let rs = pack_over_base(
            "[scoring]\npass_mark = 80\nrequire_identity = true\n",
            "[scoring]\npass_mark = 60\nrequire_identity = false\n",
        );
        assert_eq!(rs.manifest.scoring.pass_mark, 60);
        assert!(!rs.manifest.scoring.require_identity);
    }

    #[test]
    fn one_field_of_a_table_keeps_the_bases_others() {
        let rs = pack_over_base(
            "[scoring.timing]\nfirst_response_ms = 10000\nmax_silence_ms = 5000\n\
             [scoring.deduct]\nminor = 4\nmajor = 9\n\
             [scoring.checks.greeting]\npoints = 5\ntip = \"先问候\"\n\
             [scoring.cues.greeting]\nphrases = [\"您好\"]\n",
            "[scoring.timing]\nmax_silence_ms = 9000\n[scoring.deduct]\nmajor = 10\n\
             [scoring.checks.greeting]\npoints = 8\n[scoring.cues.greeting]\nphrases = [\"你好\"]\n",
        );
        let s = &rs.manifest.scoring;
        assert_eq!(s.timing.first_response_ms, 10000);
        assert_eq!(s.timing.max_silence_ms, 9000);
        assert_eq!((s.deduct.minor, s.deduct.major), (4, 10));
        let greeting = &s.checks["greeting"];
        assert_eq!((greeting.points, greeting.tip.as_str()), (8, "先问候"));
        assert_eq!(s.cues["greeting"].phrases, ["您好", "你好"]);
    }

    #[test]
    fn a_pack_stating_nothing_inherits_everything() {
        let rs = pack_over_base("[scoring]\npass_mark = 75\nfatal_cap = 50\n", "");
        assert_eq!(
            (rs.manifest.scoring.pass_mark, rs.manifest.scoring.fatal_cap),
            (75, 50)
        );
    }
}
