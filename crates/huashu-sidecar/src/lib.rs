//! The Huashu sidecar daemon (`huashu serve`): an agent-assist screen or a chat platform streams a
//! conversation over a WebSocket (or posts utterances over REST) and gets findings, hints and scores back
//! while the agent is still typing or talking. Protocol: `docs/protocol.md`.

pub mod app;
pub mod audio;
pub mod auth;
pub mod call;
pub mod call_registry;
mod checks;
pub mod config;
pub mod console;
pub mod conv;
pub mod engines;
pub mod error;
pub mod integrations;
mod memory;
pub mod metrics;
pub mod practice;
pub mod protocol;
pub mod reload;
pub mod server;
mod ws;

pub use app::App;
pub use config::Config;
pub use error::SidecarError;
pub use server::{Running, run, start};
