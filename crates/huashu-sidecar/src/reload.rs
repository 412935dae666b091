//! Hot reload of the ruleset directory: watch, debounce, validate, swap (or keep the old one and say why).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use huashu::Engine;
use notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, new_debouncer};
use tokio::sync::mpsc;

use crate::app::App;
use crate::error::SidecarError;
use crate::memory;
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

/// What a path is now (device and inode, through symlinks): a directory swapped in by rename (or a symlink
/// pointed elsewhere) is another one.
fn identity(path: &Path) -> Option<(u64, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some((meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

/// How often the reload thread looks whether a replaced engine's last session has let go of it.
const RETIRED_POLL: Duration = Duration::from_secs(1);

/// What a reload answers: the version served before, and the new one or why there is none.
type Built = (String, Result<Arc<crate::engines::Loaded>, SidecarError>);

/// One long-lived thread that runs the reloads, one at a time (the engines themselves are built on the
/// process's one builder thread, `engines::build`, as the startup one was). It also watches the engines it
/// replaced: sessions let go of one at their next utterance or at their end, and when the last has, its
/// freed pages are given back to the system (`memory::release_free_memory`), as are the build's own
/// temporaries right after a reload. The thread ends when the watch does (its sender is dropped).
fn builder(
    app: Arc<App>,
) -> std::io::Result<std::sync::mpsc::Sender<tokio::sync::oneshot::Sender<Built>>> {
    use std::sync::mpsc::RecvTimeoutError;
    let (tx, rx) = std::sync::mpsc::channel::<tokio::sync::oneshot::Sender<Built>>();
    std::thread::Builder::new()
        .name("huashu-reload".into())
        .spawn(move || {
            // Engines replaced and still held by some session.
            let mut retired: Vec<Weak<Engine>> = Vec::new();
            loop {
                // A reload frees what its build used (the parsed files, the rule examples' run).
                let mut trim = false;
                match rx.recv_timeout(RETIRED_POLL) {
                    Ok(answer) => {
                        let before = app.engines.current();
                        let result = app.engines.reload();
                        if result.is_ok() {
                            retired.push(Arc::downgrade(&before.engine));
                        }
                        // The watch may be gone by now: nobody to tell.
                        let _ = answer.send((before.version.clone(), result));
                        trim = true;
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => break,
                }
                let held = retired.len();
                retired.retain(|e| e.strong_count() > 0);
                m::retired_engines(retired.len());
                if trim || retired.len() < held {
                    memory::release_free_memory();
                }
            }
        })?;
    Ok(tx)
}

/// Starts watching `dir`; every settled batch of changes triggers one reload. The parent is watched too (not
/// recursively), and when `dir` has been replaced (the usual deploy: write a new directory, rename it over the
/// old one, or repoint a symlink) the watch moves to the new one, so later edits still reload.
///
/// # Errors
/// The directory cannot be watched.
pub fn watch(app: Arc<App>, dir: PathBuf) -> Result<Watch, SidecarError> {
    let dir = std::path::absolute(&dir).unwrap_or(dir);
    let parent = dir.parent().map(Path::to_path_buf);
    let (tx, mut rx) = mpsc::channel::<()>(1);
    let err = |e: notify::Error| SidecarError::Watch {
        path: dir.display().to_string(),
        message: e.to_string(),
    };
    let ours = dir.clone();
    let debouncer = new_debouncer(
        Duration::from_millis(app.config.reload.debounce_ms),
        None,
        move |res: DebounceEventResult| {
            let relevant = match &res {
                // The parent's other entries are none of our business.
                Ok(events) => events
                    .iter()
                    .any(|e| !e.kind.is_access() && e.paths.iter().any(|p| p.starts_with(&ours))),
                Err(_) => true,
            };
            if relevant {
                // A full channel means a reload is already pending: it will see this change too.
                let _ = tx.try_send(());
            }
        },
    )
    .map_err(err)?;
    let debouncer = Arc::new(Mutex::new(debouncer));
    {
        let mut d = debouncer.lock().unwrap_or_else(|p| p.into_inner());
        d.watch(&dir, RecursiveMode::Recursive).map_err(err)?;
        if let Some(parent) = &parent {
            // Best effort: without it a swapped directory is still caught by the events of the old one.
            let _ = d.watch(parent, RecursiveMode::NonRecursive);
        }
    }
    let mut watched = identity(&dir);
    let keep = Arc::clone(&debouncer);
    let builds = builder(Arc::clone(&app)).map_err(|e| SidecarError::Watch {
        path: dir.display().to_string(),
        message: format!("cannot start the reload thread: {e}"),
    })?;
    let task = tokio::spawn(async move {
        while rx.recv().await.is_some() {
            let now = identity(&dir);
            if now.is_some() && now != watched {
                let mut d = debouncer.lock().unwrap_or_else(|p| p.into_inner());
                let _ = d.unwatch(&dir);
                match d.watch(&dir, RecursiveMode::Recursive) {
                    Ok(()) => watched = now,
                    Err(e) => {
                        eprintln!("huashu serve: cannot watch the new {}: {e}", dir.display())
                    }
                }
            }
            let (answer, result) = tokio::sync::oneshot::channel();
            if builds.send(answer).is_err() {
                eprintln!("huashu serve: the reload thread is gone; reloads stop");
                break;
            }
            match result.await {
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
                Err(_) => eprintln!("huashu serve: the reload thread failed"),
            }
        }
    });
    Ok(Watch {
        _debouncer: Box::new(keep),
        task,
    })
}
