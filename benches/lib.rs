//! Deterministic generated corpora for the benchmarks (no real chats are copied into the repo).

pub use huashu::sample::generated_turns;
