//! Errors of the sidecar library.

use std::net::SocketAddr;

/// What can stop the daemon from starting or running.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SidecarError {
    #[error("cannot read config {path}: {source}")]
    ConfigRead {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid config {path}: {message}")]
    ConfigParse { path: String, message: String },
    #[error("invalid config: {0}")]
    Config(String),
    #[error("cannot load ruleset {name}: {message}")]
    Ruleset { name: String, message: String },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot watch ruleset directory {path}: {message}")]
    Watch { path: String, message: String },
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot load the Whisper model: {0}")]
    Model(String),
}
