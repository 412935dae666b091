//! Scoring small conversations with a bundled ruleset, for the checks' unit tests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use huashu_rules::{Role, Ruleset};

use crate::{CheckResult, Engine, Report, Turn};

fn role(r: &str) -> Role {
    match r {
        "agent" => Role::Agent,
        "customer" => Role::Customer,
        _ => Role::System,
    }
}

/// One engine per bundled ruleset for the whole test binary: compiling zh-CN in a debug build takes seconds, and
/// every check's tests score many small conversations (28 s of CI for this binary when each compiled its own).
fn engine(ruleset: &str) -> Arc<Engine> {
    static ENGINES: OnceLock<Mutex<HashMap<String, Arc<Engine>>>> = OnceLock::new();
    let mut engines = ENGINES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Arc::clone(engines.entry(ruleset.to_string()).or_insert_with(|| {
        let rs = Ruleset::builtin(ruleset).expect("bundled ruleset");
        Arc::new(Engine::new(rs).expect("compiles"))
    }))
}

/// Scores `(role, text)` turns with `zh-CN`.
pub(crate) fn score(turns: &[(&str, &str)]) -> Report {
    score_with("zh-CN", turns)
}

pub(crate) fn score_with(ruleset: &str, turns: &[(&str, &str)]) -> Report {
    let turns: Vec<Turn> = turns.iter().map(|(r, t)| Turn::new(role(r), *t)).collect();
    engine(ruleset).score(&turns)
}

/// Scores `(role, text, start_ms, end_ms)` turns with `zh-CN`.
pub(crate) fn score_timed(turns: &[(&str, &str, u64, u64)]) -> Report {
    let turns: Vec<Turn> = turns
        .iter()
        .map(|(r, t, s, e)| {
            let mut turn = Turn::new(role(r), *t);
            turn.start_ms = Some(*s);
            turn.end_ms = Some(*e);
            turn
        })
        .collect();
    engine("zh-CN").score(&turns)
}

/// The result of check `id`; panics when it was not judged.
pub(crate) fn check<'a>(report: &'a Report, id: &str) -> &'a CheckResult {
    report
        .checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("{id} not judged: {:?}", report.checks))
}
