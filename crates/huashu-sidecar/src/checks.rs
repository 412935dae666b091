//! The threads that run checks (engine work: an utterance, a draft, a scan, a score), off the async threads.
//!
//! A fixed set of `check_threads` long-lived threads rather than tokio's blocking pool. With the pool, a
//! check finishing released its slot before its thread was counted idle again, so on a busy machine the
//! next check often found no idle thread and the pool started another: a 10-minute soak held 30–37 threads
//! for 2 permits, and each one that came and went gave its successor a cold thread-local scan scratch,
//! another malloc arena's share of freed-but-kept pages and its own caches in every shared regex's pool. RSS
//! climbed ~1.5 MiB a minute with the thread count, reloads or not (benches/RESULTS.md, "Sidecar session 3").
//! Here every check runs on one of the same few threads for the life of the daemon.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce() + Send>;

/// `threads` check threads and the permits that keep callers waiting (asynchronously) for one.
#[derive(Debug)]
pub struct CheckPool {
    permits: tokio::sync::Semaphore,
    /// `None` when no thread could be started: checks then go to tokio's blocking pool.
    jobs: Option<Mutex<Sender<Job>>>,
}

impl CheckPool {
    /// Starts `threads` threads (at least 1). They end when the pool is dropped.
    pub fn new(threads: usize) -> CheckPool {
        let threads = threads.max(1);
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let started = (0..threads)
            .filter(|k| {
                let rx = Arc::clone(&rx);
                std::thread::Builder::new()
                    .name(format!("huashu-check-{k}"))
                    .spawn(move || work(&rx))
                    .is_ok()
            })
            .count();
        CheckPool {
            permits: tokio::sync::Semaphore::new(threads),
            jobs: (started > 0).then(|| Mutex::new(tx)),
        }
    }

    /// Runs `f` on a check thread once one is free; a panic in `f` resumes here.
    pub async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let _permit = self.permits.acquire().await;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            // The caller may be gone (its connection dropped): nobody to answer.
            let _ = tx.send(catch_unwind(AssertUnwindSafe(f)));
        });
        let refused = match &self.jobs {
            Some(jobs) => jobs
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .send(job)
                .err()
                .map(|e| e.0),
            None => Some(job),
        };
        if let Some(job) = refused {
            // No check thread: the blocking pool runs it (it answers on the same channel).
            drop(tokio::task::spawn_blocking(job));
        }
        match rx.await {
            Ok(Ok(v)) => v,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            // Every job is run or handed to the blocking pool above, and a job always answers.
            Err(_) => std::panic::resume_unwind(Box::new("a check was dropped unrun")),
        }
    }
}

/// A check thread: jobs one at a time until the pool is gone. Panics are caught in the job.
fn work(rx: &Mutex<Receiver<Job>>) {
    loop {
        let job = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn checks_run_on_the_same_few_threads() {
        let pool = Arc::new(CheckPool::new(2));
        let mut tasks = Vec::new();
        for _ in 0..200 {
            let pool = Arc::clone(&pool);
            tasks.push(tokio::spawn(async move {
                pool.run(|| std::thread::current().name().map(str::to_string))
                    .await
            }));
        }
        let mut names = std::collections::BTreeSet::new();
        for t in tasks {
            names.insert(t.await.unwrap());
        }
        let want: std::collections::BTreeSet<_> = ["huashu-check-0", "huashu-check-1"]
            .into_iter()
            .map(|n| Some(n.to_string()))
            .collect();
        assert!(names.is_subset(&want), "{names:?}");
    }

    #[tokio::test]
    async fn a_panicking_check_panics_its_caller_and_the_thread_lives_on() {
        let pool = Arc::new(CheckPool::new(1));
        let p = Arc::clone(&pool);
        let caller = tokio::spawn(async move { p.run(|| panic!("boom")).await });
        let err = caller.await.unwrap_err();
        assert!(err.is_panic());
        // The one thread still answers.
        assert_eq!(pool.run(|| 41 + 1).await, 42);
    }
}
