//! Tools around Huashu that users do not embed, kept out of the production library crates (`huashu`,
//! `huashu-engine`, `huashu-sidecar`): the WebSocket load-test client behind `huashu loadtest`, the mixed
//! long-running load behind `huashu soak`, and the deterministic sample turns behind `huashu bench` and the criterion benchmarks (`benches/`).

pub mod loadtest;
pub mod sample;
pub mod soak;

pub use sample::generated_turns;
