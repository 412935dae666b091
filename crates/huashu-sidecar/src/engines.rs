//! The rulesets being served: the configured one (hot-reloadable, swapped whole) and bundled ones by name.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use arc_swap::ArcSwap;
use huashu::{Engine, LearnedModel, Ruleset};

use crate::error::SidecarError;

/// A compiled ruleset version.
#[derive(Debug)]
pub struct Loaded {
    pub engine: Arc<Engine>,
    /// `name@version`.
    pub version: String,
    /// Bumped on every successful reload of the configured ruleset.
    pub generation: u64,
}

/// The state of the last reload, for `/readyz` and the logs.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ReloadStatus {
    pub reloads: u64,
    pub failures: u64,
    /// The error of the last attempt, when it failed (the previous version keeps serving).
    pub last_error: Option<String>,
    /// Seconds since the epoch of the last attempt.
    pub last_attempt: Option<u64>,
}

#[derive(Debug)]
pub struct Engines {
    /// The configured ruleset: a bundled name or a directory.
    pub source: String,
    current: ArcSwap<Loaded>,
    generation: AtomicU64,
    named: Mutex<HashMap<String, Arc<Loaded>>>,
    status: Mutex<ReloadStatus>,
    build: Build,
}

/// How every engine of the process is built.
#[derive(Debug, Clone, Copy, Default)]
pub struct Build {
    /// Run every rule's examples of a ruleset directory before serving it.
    pub selftest: bool,
    /// Add the ruleset's learned models (`Config::learned`).
    pub learned: bool,
}

/// Loads and validates a ruleset: parse + field checks, compile, and (optionally) every rule's examples.
///
/// # Errors
/// Whatever is wrong, as one message naming files and lines.
pub fn load_checked(source: &str, how: Build) -> Result<Engine, SidecarError> {
    let err = |message: String| SidecarError::Ruleset {
        name: source.to_string(),
        message,
    };
    let ruleset = Ruleset::load(source).map_err(|e| err(e.to_string()))?;
    let mut engine = Engine::new(ruleset).map_err(|e| err(e.to_string()))?;
    if how.learned {
        let models = LearnedModel::load_all(source).map_err(|e| err(e.to_string()))?;
        engine = engine
            .with_learned(&models)
            .map_err(|e| err(e.to_string()))?;
    }
    // Bundled rulesets are self-tested in CI; a directory someone just edited is checked here.
    if how.selftest && Path::new(source).is_dir() {
        let outcome = huashu::ruleset_tests::run(&engine);
        if !outcome.passed() {
            let mut msg = format!("{} problem(s) in rule examples", outcome.problems.len());
            for p in outcome.problems.iter().take(5) {
                msg.push_str(&format!("; {p}"));
            }
            return Err(err(msg));
        }
    }
    Ok(engine)
}

/// A build for the builder thread: what to load, whether to self-test, where to answer.
type Job = (
    String,
    Build,
    std::sync::mpsc::Sender<Result<Engine, SidecarError>>,
);

/// As [`load_checked`], on the one long-lived thread that builds every engine of the process (the startup
/// one, reloads, bundled names). Engines are tens of MB built in pieces: built on whichever thread came
/// next, each landed in another malloc arena, where the memory of the engines it replaced was not reused,
/// and each such thread also gave every shared regex lazy-DFA caches of its own when it ran the rule
/// examples. The first reload, the first build off the main thread, still added 12–15 MiB that stayed.
/// When the thread cannot be started the build runs here.
fn build(source: &str, how: Build) -> Result<Engine, SidecarError> {
    static BUILDER: OnceLock<Option<Mutex<std::sync::mpsc::Sender<Job>>>> = OnceLock::new();
    let builder = BUILDER.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("huashu-build".into())
            .spawn(move || {
                while let Ok((source, how, answer)) = rx.recv() {
                    let _ = answer.send(load_checked(&source, how));
                }
            })
            .ok()
            .map(|_| Mutex::new(tx))
    });
    let (answer, result) = std::sync::mpsc::channel();
    let sent = builder.as_ref().is_some_and(|b| {
        b.lock()
            .unwrap_or_else(|p| p.into_inner())
            .send((source.to_string(), how, answer))
            .is_ok()
    });
    match sent.then(|| result.recv().ok()).flatten() {
        Some(built) => built,
        None => load_checked(source, how),
    }
}

impl Engines {
    /// Loads the configured ruleset.
    ///
    /// # Errors
    /// The ruleset cannot be loaded or fails validation.
    pub fn new(source: &str, how: Build) -> Result<Engines, SidecarError> {
        let engine = build(source, how)?;
        let version = engine.ruleset().version_tag();
        Ok(Engines {
            source: source.to_string(),
            current: ArcSwap::from_pointee(Loaded {
                engine: Arc::new(engine),
                version,
                generation: 0,
            }),
            generation: AtomicU64::new(0),
            named: Mutex::new(HashMap::new()),
            status: Mutex::new(ReloadStatus::default()),
            build: how,
        })
    }

    /// The configured ruleset as it stands now.
    pub fn current(&self) -> Arc<Loaded> {
        self.current.load_full()
    }

    /// Whether the configured ruleset is a directory (and so can be reloaded).
    pub fn is_dir(&self) -> bool {
        Path::new(&self.source).is_dir()
    }

    /// The ruleset a session asked for: `None` or the configured name → the configured one (follows reloads);
    /// another bundled name → that one (compiled once, cached).
    ///
    /// # Errors
    /// An unknown name (clients cannot name directories).
    pub fn choose(&self, name: Option<&str>) -> Result<(bool, Arc<Loaded>), String> {
        let Some(name) = name.filter(|n| *n != self.source && !n.is_empty()) else {
            return Ok((true, self.current()));
        };
        if self.current().engine.ruleset().manifest.name == name {
            return Ok((true, self.current()));
        }
        if !Ruleset::builtin_names().contains(&name) {
            return Err(format!(
                "unknown ruleset {name:?}; bundled: {}",
                Ruleset::builtin_names().join(", ")
            ));
        }
        let mut named = self.named.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(l) = named.get(name) {
            return Ok((false, Arc::clone(l)));
        }
        let engine = build(
            name,
            Build {
                selftest: false,
                ..self.build
            },
        )
        .map_err(|e| e.to_string())?;
        let loaded = Arc::new(Loaded {
            version: engine.ruleset().version_tag(),
            engine: Arc::new(engine),
            generation: 0,
        });
        named.insert(name.to_string(), Arc::clone(&loaded));
        Ok((false, loaded))
    }

    /// Reloads the configured ruleset: validates first, swaps only on success.
    ///
    /// # Errors
    /// The new version is invalid; the old one keeps serving.
    pub fn reload(&self) -> Result<Arc<Loaded>, SidecarError> {
        let attempt = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .ok();
        let result = build(&self.source, self.build);
        let mut status = self.status.lock().unwrap_or_else(|p| p.into_inner());
        status.last_attempt = attempt;
        match result {
            Ok(engine) => {
                let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
                let loaded = Arc::new(Loaded {
                    version: engine.ruleset().version_tag(),
                    engine: Arc::new(engine),
                    generation,
                });
                self.current.store(Arc::clone(&loaded));
                status.reloads += 1;
                status.last_error = None;
                Ok(loaded)
            }
            Err(e) => {
                status.failures += 1;
                status.last_error = Some(e.to_string());
                Err(e)
            }
        }
    }

    pub fn status(&self) -> ReloadStatus {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}
