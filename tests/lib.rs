//! Helpers shared by the workspace-level tests.

use std::path::PathBuf;

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `../shared/corpora/NAME` beside the checkout, when present (real chats are never copied into the repo).
pub fn shared_corpus(name: &str) -> Option<PathBuf> {
    let p = root().join("../shared/corpora").join(name);
    p.is_file().then_some(p)
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
        .map(|t| huashu::Turn {
            role: huashu::Role::parse(&t.role).expect("role"),
            text: t.text.clone(),
            start_ms: t.start_ms,
            end_ms: t.end_ms,
        })
        .collect()
}
