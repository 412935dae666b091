//! Helpers shared by the workspace-level tests.

use std::path::PathBuf;

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `../shared/corpora` beside the checkout (real chats are never copied into the repo).
pub fn shared_corpora() -> PathBuf {
    root().join("../shared/corpora")
}

/// `../shared/corpora/NAME` when present. Outside CI a test skips without it; under CI (`CI` set) a
/// missing corpus is a failure, never a silent pass.
///
/// # Panics
/// When `CI` is set and the file is absent.
pub fn shared_corpus(name: &str) -> Option<PathBuf> {
    let p = shared_corpora().join(name);
    if p.is_file() {
        return Some(p);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing and CI is set: the real-data tests must run in CI",
        p.display()
    );
    eprintln!("skipped: {} absent", p.display());
    None
}

/// A turn as the test data files write it (`role` as text: agent, customer, 客服 …).
#[derive(serde::Deserialize, Debug)]
pub struct TurnIn {
    pub role: String,
    pub text: String,
    pub start_ms: Option<u64>,
    pub end_ms: Option<u64>,
}

/// The engine's turns for `turns`; panics on an unknown role (test data is wrong).
pub fn to_turns(turns: &[TurnIn]) -> Vec<huashu::Turn> {
    turns
        .iter()
        .map(|t| {
            huashu::Turn::new(huashu::Role::parse(&t.role).expect("role"), t.text.clone())
                .with_optional_times(t.start_ms, t.end_ms)
        })
        .collect()
}

/// A ruleset of `rules` (`(file label, rule TOML)`) with the bundled zh-CN manifest's options, its allow-list
/// replaced by `allow` and no scoring: for tests of engine behaviour that no bundled rule should move.
///
/// # Panics
/// When a rule does not parse.
pub fn tiny_ruleset(allow: &[&str], rules: &[(&str, &str)]) -> huashu::rules::Ruleset {
    use huashu::rules::Ruleset;
    let mut manifest = Ruleset::builtin("zh-CN").expect("zh-CN").manifest;
    manifest.allow = allow.iter().map(|s| s.to_string()).collect();
    manifest.scoring = Default::default();
    Ruleset {
        manifest,
        rules: rules
            .iter()
            .map(|(label, text)| Ruleset::parse_rule(label, text).expect("rule parses"))
            .collect(),
    }
}

/// A forbidden rule `id` of `phrases` (TOML array items, e.g. `"\"不知道\""`) suggesting `R<id>`: its file label
/// and TOML.
pub fn rule(id: &str, severity: &str, phrases: &str) -> (String, String) {
    rule_with(id, severity, phrases, "")
}

/// [`rule`] with extra `[match]` lines (context conditions, a regex, a checksum).
pub fn rule_with(id: &str, severity: &str, phrases: &str, extra: &str) -> (String, String) {
    (
        format!("rules/forbidden/{id}.toml"),
        format!(
            "id = \"{id}\"\nname = \"t\"\ncategory = \"forbidden\"\nseverity = \"{severity}\"\nmessage = \"m {{matched}}\"\n[match]\n{extra}\nphrases = [{phrases}]\n[[suggest]]\nreplace = \"R{id}\"\n"
        ),
    )
}
