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
