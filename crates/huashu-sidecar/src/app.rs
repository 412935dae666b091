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
    /// Telephony adapters: live calls, finished calls' scorecards, AudioSocket registrations.
    pub integrations: crate::call_registry::CallRegistry,
    pub connections: AtomicUsize,
    pub conn_done: Notify,
    /// Work that outlives its request (an integration's note to its platform): shutdown waits for it by
    /// the same deadline as for connections.
    background: AtomicUsize,
    background_done: Notify,
    /// Live audio: set at start when a Whisper model is configured (or by a test with a fake recogniser).
    pub speech: std::sync::OnceLock<crate::audio::Speech>,
    shutdown: watch::Sender<bool>,
    /// The `check_threads` threads that check utterances and drafts, off the async threads.
    checks: crate::checks::CheckPool,
    /// When shutdown began: the one deadline (plus `shutdown_grace_ms`) for everything still open.
    shutdown_at: std::sync::OnceLock<tokio::time::Instant>,
}

impl App {
    /// Loads the ruleset and builds the state.
    ///
    /// # Errors
    /// The ruleset cannot be loaded.
    pub fn new(config: Config) -> Result<Arc<App>, SidecarError> {
        m::install();
        let engines = Engines::new(
            &config.ruleset,
            crate::engines::Build {
                selftest: config.reload.selftest,
                learned: config.learned,
            },
        )?;
        let (shutdown, _) = watch::channel(false);
        let speech = std::sync::OnceLock::new();
        #[cfg(feature = "audio")]
        if let Some(model) = &config.audio.model {
            let silero = if config.audio.energy_vad_only {
                None
            } else {
                config
                    .audio
                    .silero_vad
                    .clone()
                    .or_else(huashu_audio::model::cached_silero_vad)
            };
            let factory = crate::audio::WhisperFactory::load(
                model,
                &config.audio.language,
                config.audio.threads,
                silero,
            )
            .map_err(|e| SidecarError::Model(e.to_string()))?;
            let _ = speech.set(crate::audio::Speech::new(
                Arc::new(factory),
                config.audio.pool,
                config.audio.threads,
                config.audio.max_streams,
            ));
        }
        Ok(Arc::new(App {
            speech,
            registry: Registry::new(
                config.limits.max_sessions,
                config.limits.max_listeners,
                config.limits.max_output_bytes,
            ),
            auth: Auth::new(
                config.tokens.clone(),
                Duration::from_secs(config.limits.ticket_ttl_s),
            ),
            practice: crate::practice::Practice::new(
                config.limits.max_sessions,
                Duration::from_secs(config.limits.idle_timeout_s),
            ),
            integrations: crate::call_registry::CallRegistry::new(
                config.integrations.clone(),
                config.limits.max_sessions,
            ),
            engines,
            connections: AtomicUsize::new(0),
            conn_done: Notify::new(),
            background: AtomicUsize::new(0),
            background_done: Notify::new(),
            shutdown,
            shutdown_at: std::sync::OnceLock::new(),
            checks: crate::checks::CheckPool::new(match config.limits.check_threads {
                0 => std::thread::available_parallelism().map_or(2, |n| n.get().max(2)),
                n => n,
            }),
            config,
        }))
    }

    /// Runs a check (engine work: an utterance, a draft, a scan) on one of the `check_threads` check
    /// threads (`checks.rs`), so a finding-dense input never stalls the async threads that serve every
    /// other connection.
    pub async fn check<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        self.checks.run(f).await
    }

    /// Runs `work` on the runtime, counted until it ends (see [`App::background_finished`]).
    pub fn spawn_background(
        self: &Arc<Self>,
        work: impl std::future::Future<Output = ()> + Send + 'static,
    ) {
        self.background.fetch_add(1, Ordering::SeqCst);
        let guard = BackgroundGuard(Arc::clone(self));
        tokio::spawn(async move {
            let _guard = guard;
            work.await;
        });
    }

    /// Waits until no background work is running.
    pub async fn background_finished(&self) {
        loop {
            let notified = self.background_done.notified();
            if self.background.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }

    /// As [`App::check`] for an input of `bytes`: one of at most `inline_check_bytes` (off by default) runs
    /// here, on the async thread. Its check takes tens of µs, while the hop to the blocking pool and back
    /// wakes two threads, which on a busy machine each wait for a core.
    pub async fn check_input<T: Send + 'static>(
        &self,
        bytes: usize,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> T {
        let inline = self.config.limits.inline_check_bytes;
        if inline > 0 && bytes <= inline {
            return f();
        }
        self.check(f).await
    }

    pub fn shutdown_rx(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// The shutdown deadline (`shutdown_grace_ms` after shutdown began); waits for shutdown to begin.
    pub async fn shutdown_deadline(&self) -> tokio::time::Instant {
        let _ = self.shutdown_rx().wait_for(|v| *v).await;
        let began = *self.shutdown_at.get_or_init(tokio::time::Instant::now);
        began + Duration::from_millis(self.config.limits.shutdown_grace_ms)
    }

    pub fn shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Stops accepting, asks every session to finish with a final score.
    pub fn begin_shutdown(&self) {
        let _ = self.shutdown_at.set(tokio::time::Instant::now());
        self.shutdown.send_replace(true);
        for conv in self.registry.rest_conversations() {
            let _ = self.registry.end(&conv, None);
        }
    }
}

/// Counts background work while it runs (also when it panics).
struct BackgroundGuard(Arc<App>);

impl Drop for BackgroundGuard {
    fn drop(&mut self) {
        self.0.background.fetch_sub(1, Ordering::SeqCst);
        self.0.background_done.notify_waiters();
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
