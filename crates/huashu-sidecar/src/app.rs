//! The shared state of a running daemon (`App`) and the connection guard. Every face (routes, WebSocket
//! connections, hot reload) holds an `Arc<App>`; this module imports none of them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, watch};

use crate::auth::Auth;
use crate::config::Config;
use crate::conv::registry::Registry;
use crate::engines::Engines;
use crate::error::SidecarError;
use crate::metrics as m;

/// Shared state of a running daemon.
#[derive(Debug)]
pub struct App {
    pub config: Config,
    pub engines: Engines,
    pub registry: Registry,
    pub auth: Auth,
    pub practice: crate::practice::Practice,
    pub connections: AtomicUsize,
    pub conn_done: Notify,
    /// Live audio: set at start when a Whisper model is configured (or by a test with a fake recogniser).
    pub speech: std::sync::OnceLock<crate::audio::Speech>,
    shutdown: watch::Sender<bool>,
}

impl App {
    /// Loads the ruleset and builds the state.
    ///
    /// # Errors
    /// The ruleset cannot be loaded.
    pub fn new(config: Config) -> Result<Arc<App>, SidecarError> {
        m::install();
        let engines = Engines::new(&config.ruleset, config.reload.selftest)?;
        let (shutdown, _) = watch::channel(false);
        let speech = std::sync::OnceLock::new();
        #[cfg(feature = "audio")]
        if let Some(model) = &config.audio.model {
            let factory = crate::audio::WhisperFactory::load(
                model,
                &config.audio.language,
                config.audio.threads,
            )
            .map_err(|e| SidecarError::Model(e.to_string()))?;
            let _ = speech.set(crate::audio::Speech::new(
                Arc::new(factory),
                config.audio.pool,
                config.audio.max_streams,
            ));
        }
        Ok(Arc::new(App {
            speech,
            registry: Registry::new(config.limits.max_sessions),
            auth: Auth::new(
                config.tokens.clone(),
                Duration::from_secs(config.limits.ticket_ttl_s),
            ),
            practice: crate::practice::Practice::new(
                config.limits.max_sessions,
                Duration::from_secs(config.limits.idle_timeout_s),
            ),
            engines,
            connections: AtomicUsize::new(0),
            conn_done: Notify::new(),
            shutdown,
            config,
        }))
    }

    pub fn shutdown_rx(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    pub fn shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Stops accepting, asks every session to finish with a final score.
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
        for conv in self.registry.rest_conversations() {
            let _ = self.registry.end(&conv, None);
        }
    }
}

/// Counts a connection while it lives (also when the upgrade never completes).
#[derive(Debug)]
pub struct ConnGuard(pub Arc<App>);

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::SeqCst);
        m::connection(-1.0);
        self.0.conn_done.notify_waiters();
    }
}
