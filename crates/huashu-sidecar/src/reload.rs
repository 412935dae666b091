//! Hot reload of the ruleset directory: watch, debounce, validate, swap (or keep the old one and say why).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, new_debouncer};
use tokio::sync::mpsc;

use crate::app::App;
use crate::error::SidecarError;
use crate::metrics as m;

/// Keeps the watcher alive; dropping it stops watching.
pub struct Watch {
    _debouncer: Box<dyn std::any::Any + Send>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Watch")
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts watching `dir`; every settled batch of changes triggers one reload.
///
/// # Errors
/// The directory cannot be watched.
pub fn watch(app: Arc<App>, dir: PathBuf) -> Result<Watch, SidecarError> {
    let (tx, mut rx) = mpsc::channel::<()>(1);
    let err = |e: notify::Error| SidecarError::Watch {
        path: dir.display().to_string(),
        message: e.to_string(),
    };
    let mut debouncer = new_debouncer(
        Duration::from_millis(app.config.reload.debounce_ms),
        None,
        move |res: DebounceEventResult| {
            let relevant = match &res {
                Ok(events) => events.iter().any(|e| !e.kind.is_access()),
                Err(_) => true,
            };
            if relevant {
                // A full channel means a reload is already pending: it will see this change too.
                let _ = tx.try_send(());
            }
        },
    )
    .map_err(err)?;
    debouncer
        .watch(&dir, RecursiveMode::Recursive)
        .map_err(err)?;
    let task = tokio::spawn(async move {
        while rx.recv().await.is_some() {
            let app = Arc::clone(&app);
            let result = tokio::task::spawn_blocking(move || {
                let before = app.engines.current().version.clone();
                (before, app.engines.reload())
            })
            .await;
            match result {
                Ok((before, Ok(loaded))) => {
                    m::reload(true);
                    eprintln!(
                        "huashu serve: ruleset reloaded: {before} → {} (generation {})",
                        loaded.version, loaded.generation
                    );
                }
                Ok((before, Err(e))) => {
                    m::reload(false);
                    eprintln!("huashu serve: ruleset reload FAILED, still serving {before}: {e}");
                }
                Err(e) => eprintln!("huashu serve: reload task failed: {e}"),
            }
        }
    });
    Ok(Watch {
        _debouncer: Box::new(debouncer),
        task,
    })
}
