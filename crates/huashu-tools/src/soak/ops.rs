//! What runs beside the soak's clients: `/readyz` polled, the daemon's RSS sampled, the ruleset reloaded.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;
use tokio::time::Instant;

use super::SoakOptions;
use crate::loadtest::{http_get_status, memory};

/// `/readyz` answers: how many polls, how many were not 200 with `"ready": true` (and a few of them).
#[derive(Debug, Default)]
pub(super) struct Readyz {
    pub polls: usize,
    pub failures: usize,
    pub examples: Vec<String>,
}

/// Reloads done (when, kind, version, seconds until served) and failed.
#[derive(Debug, Default)]
pub(super) struct Reloads {
    pub done: Vec<(f64, &'static str, String, f64)>,
    pub failures: Vec<String>,
}

async fn readyz(opts: &SoakOptions) -> Option<(u16, Value)> {
    let get = http_get_status(opts.addr, "/readyz", opts.token.as_deref());
    let (status, body) = tokio::time::timeout(Duration::from_secs(5), get)
        .await
        .ok()??;
    Some((status, serde_json::from_str(&body).ok()?))
}

/// Polls `/readyz` every `readyz_every` until told to stop.
pub(super) async fn poll_readyz(opts: Arc<SoakOptions>, mut stop: watch::Receiver<bool>) -> Readyz {
    let mut r = Readyz::default();
    let mut tick = tokio::time::interval(opts.readyz_every);
    loop {
        tokio::select! {
            _ = stop.wait_for(|v| *v) => return r,
            _ = tick.tick() => {}
        }
        r.polls += 1;
        let ok = match readyz(&opts).await {
            Some((200, v)) if v["ready"] == true => None,
            Some((s, v)) => Some(format!("{s} {v}")),
            None => Some("no answer within 5 s".to_string()),
        };
        if let Some(e) = ok {
            r.failures += 1;
            if r.examples.len() < 5 {
                r.examples.push(e);
            }
        }
    }
}

/// The daemon's memory samples: (seconds since the start, RSS MiB), and where the daemon counts its malloc
/// heap, (seconds, MiB held, MiB free inside the arenas) of the same scrapes.
#[derive(Debug, Default)]
pub(super) struct MemorySamples {
    pub rss: Vec<(f64, f64)>,
    pub heap: Vec<(f64, f64, f64)>,
}

/// Samples the daemon's RSS and heap (MiB, from `/metrics`) every `rss_every` until told to stop.
pub(super) async fn sample_rss(
    opts: Arc<SoakOptions>,
    t0: Instant,
    mut stop: watch::Receiver<bool>,
) -> MemorySamples {
    let mut out = MemorySamples::default();
    let mut tick = tokio::time::interval(opts.rss_every);
    let mib = |b: f64| (b / 1048576.0 * 10.0).round() / 10.0;
    loop {
        tokio::select! {
            _ = stop.wait_for(|v| *v) => return out,
            _ = tick.tick() => {}
        }
        if let Some(m) = memory(opts.addr, opts.token.as_deref()).await {
            let t = (t0.elapsed().as_secs_f64() * 10.0).round() / 10.0;
            out.rss.push((t, mib(m.rss)));
            if let Some((held, free)) = m.heap {
                out.heap.push((t, mib(held), mib(free)));
            }
        }
    }
}

/// Sessions the daemon holds once every client is done (given a few seconds to see the last ones end).
pub(super) async fn sessions_left(opts: &SoakOptions) -> Option<u64> {
    let mut left = None;
    for _ in 0..30 {
        left = readyz(opts).await.and_then(|(_, v)| v["sessions"].as_u64());
        if left == Some(0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    left
}

/// Every `reload_every`, a new version of the ruleset directory: an edit of `ruleset.toml` in place, then a
/// directory swap (the usual deploy: write a new directory, rename it over the old one), in turn; each
/// must be served (`/readyz`'s `ruleset`) within 20 s.
pub(super) async fn reload_loop(
    opts: Arc<SoakOptions>,
    t0: Instant,
    mut stop: watch::Receiver<bool>,
) -> Reloads {
    let mut r = Reloads::default();
    let Some(dir) = opts.ruleset_dir.clone() else {
        return r;
    };
    let mut k = 0;
    loop {
        tokio::select! {
            _ = stop.wait_for(|v| *v) => return r,
            () = tokio::time::sleep(opts.reload_every) => {}
        }
        k += 1;
        let version = format!("9.{k}.0");
        let (kind, done) = if k % 2 == 1 {
            ("edit", set_version(&dir, &version))
        } else {
            ("swap", swap(&dir, &version))
        };
        let at = (t0.elapsed().as_secs_f64() * 10.0).round() / 10.0;
        if let Err(e) = done {
            r.failures.push(format!("{kind} to {version}: {e}"));
            continue;
        }
        let began = Instant::now();
        let served = loop {
            if let Some((_, v)) = readyz(&opts).await {
                if v["ruleset"]
                    .as_str()
                    .is_some_and(|s| s.ends_with(&format!("@{version}")))
                {
                    break true;
                }
            }
            if began.elapsed() > Duration::from_secs(20) {
                break false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        if served {
            let took = (began.elapsed().as_secs_f64() * 100.0).round() / 100.0;
            r.done.push((at, kind, version, took));
        } else {
            r.failures.push(format!(
                "{kind} to {version} at {at} s: not served within 20 s"
            ));
        }
    }
}

fn set_version(dir: &Path, version: &str) -> std::io::Result<()> {
    let manifest = dir.join("ruleset.toml");
    let text = std::fs::read_to_string(&manifest)?;
    let Some(old) = text.lines().find(|l| l.starts_with("version")) else {
        return Err(std::io::Error::other(format!(
            "{}: no version line",
            manifest.display()
        )));
    };
    std::fs::write(
        &manifest,
        text.replacen(old, &format!("version = \"{version}\""), 1),
    )
}

fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    dir.with_file_name(name)
}

fn swap(dir: &Path, version: &str) -> std::io::Result<()> {
    let (new, old) = (sibling(dir, ".soak-new"), sibling(dir, ".soak-old"));
    for d in [&new, &old] {
        if d.exists() {
            std::fs::remove_dir_all(d)?;
        }
    }
    copy_dir(dir, &new)?;
    set_version(&new, version)?;
    std::fs::rename(dir, &old)?;
    std::fs::rename(&new, dir)?;
    std::fs::remove_dir_all(&old)
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let p = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &p)?;
        } else {
            std::fs::copy(e.path(), p)?;
        }
    }
    Ok(())
}
