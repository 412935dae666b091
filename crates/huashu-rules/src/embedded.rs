//! The bundled rulesets, embedded at build time from the workspace's `rulesets/` directory.

include!(concat!(env!("OUT_DIR"), "/embedded_files.rs"));

/// Names of the bundled rulesets (directories holding a `ruleset.toml`).
pub fn names() -> impl Iterator<Item = &'static str> {
    FILES
        .iter()
        .filter_map(|(path, _)| path.strip_suffix("/ruleset.toml"))
}
