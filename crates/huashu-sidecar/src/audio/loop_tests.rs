//! The transcribe loop's scheduling, in the stream's own time (each job's audio end), not wall clock: the
//! fake recogniser runs a job only when the test lets it, so the order is the only thing that can vary.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc as sync_mpsc;
use std::time::Duration;

use huashu_audio::live::LiveJob;
use huashu_audio::{AudioError, Segment};
use tokio::sync::{Semaphore, mpsc};

use super::{AsyncReport, JOB_QUEUE, LiveRecognizer, Report, transcribe_loop};

/// Tells the test which job it started (final?, stream time of its audio's end), then waits for the test's
/// go-ahead (or, when cancellable, for its cancel flag).
struct Gated {
    started: sync_mpsc::Sender<(bool, u64)>,
    go: sync_mpsc::Receiver<()>,
    cancel: Option<Arc<AtomicBool>>,
}

impl LiveRecognizer for Gated {
    fn recognize(&mut self, pcm: &[f32], partial: bool) -> Result<Vec<Segment>, AudioError> {
        // The job's audio ends at 300 ms (its start) + its length.
        let end_ms = 300 + pcm.len() as u64 / 16;
        let _ = self.started.send((!partial, end_ms));
        loop {
            if self
                .cancel
                .as_ref()
                .is_some_and(|c| c.load(Ordering::SeqCst))
            {
                return Err(AudioError::Recognition("cancelled".into()));
            }
            match self.go.recv_timeout(Duration::from_millis(2)) {
                Ok(()) | Err(sync_mpsc::RecvTimeoutError::Disconnected) => break,
                Err(sync_mpsc::RecvTimeoutError::Timeout) => {}
            }
        }
        Ok(vec![Segment {
            text: format!("{end_ms}"),
            start_ms: 0,
            end_ms: 1,
            confidence: 0.9,
            no_speech: 0.0,
        }])
    }

    fn cancel_flag(&self) -> Option<Arc<AtomicBool>> {
        self.cancel.clone()
    }
}

/// A job of utterance `u` whose audio runs from 300 ms to `end_ms` of the stream.
fn job(u: u64, is_final: bool, end_ms: u64) -> LiveJob {
    LiveJob {
        utterance: u,
        is_final,
        start_ms: 300,
        end_ms,
        speech_start_ms: 500,
        speech_end_ms: end_ms,
        pcm: vec![0.1; (end_ms as usize - 300) * 16],
    }
}

/// (final?, text) of every transcript, then "done".
struct Heard(mpsc::UnboundedSender<String>);

impl AsyncReport for Heard {
    async fn report(&mut self, r: Report) -> bool {
        let line = match r {
            Report::Heard(t) => format!(
                "{} {}",
                if t.is_final { "final" } else { "partial" },
                t.text
            ),
            Report::Silent { .. } => "silent".into(),
            Report::Failed(e) => format!("failed {e}"),
            Report::Done => "done".into(),
        };
        self.0.send(line).is_ok()
    }
}

struct Rig {
    tx: mpsc::Sender<LiveJob>,
    started: sync_mpsc::Receiver<(bool, u64)>,
    go: sync_mpsc::Sender<()>,
    heard: mpsc::UnboundedReceiver<String>,
    task: tokio::task::JoinHandle<()>,
}

fn rig(pool: Arc<Semaphore>, cancellable: bool) -> Rig {
    let (tx, rx) = mpsc::channel(JOB_QUEUE);
    let (started_tx, started) = sync_mpsc::channel();
    let (go, go_rx) = sync_mpsc::channel();
    let (heard_tx, heard) = mpsc::unbounded_channel();
    let rec = Gated {
        started: started_tx,
        go: go_rx,
        cancel: cancellable.then(Arc::default),
    };
    let task = tokio::spawn(transcribe_loop(rx, Box::new(rec), pool, Heard(heard_tx)));
    Rig {
        tx,
        started,
        go,
        heard,
        task,
    }
}

impl Rig {
    /// The next job the recogniser started (blocking in place: the loop runs on the other worker).
    fn next_started(&self) -> (bool, u64) {
        tokio::task::block_in_place(|| self.started.recv_timeout(Duration::from_secs(10)))
            .expect("the recogniser started no job within 10 s")
    }

    /// The next report.
    async fn next_heard(&mut self) -> String {
        self.heard.recv().await.expect("a report")
    }

    /// Ends the stream and returns every report in order.
    async fn finish(mut self) -> Vec<String> {
        drop(self.tx);
        drop(self.go);
        self.task.await.expect("loop");
        let mut out = Vec::new();
        while let Some(l) = self.heard.recv().await {
            out.push(l);
        }
        out
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_final_is_not_queued_behind_the_partials_of_its_audio() {
    let r = rig(Arc::new(Semaphore::new(2)), false);
    // A partial of utterance 0 (audio up to 900 ms) is being recognised when the partials of 1 900 and
    // 2 900 ms and the final (3 200 ms) arrive.
    r.tx.send(job(0, false, 900)).await.expect("send");
    assert_eq!(r.next_started(), (false, 900));
    for j in [job(0, false, 1900), job(0, false, 2900), job(0, true, 3200)] {
        r.tx.send(j).await.expect("send");
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    r.go.send(()).expect("go");
    // Next comes the final: no partial of audio the final holds runs after it is known.
    assert_eq!(r.next_started(), (true, 3200));
    r.go.send(()).expect("go");
    let heard = r.finish().await;
    assert_eq!(heard, ["partial 900", "final 3200", "done"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_final_cancels_the_partial_being_recognised() {
    let r = rig(Arc::new(Semaphore::new(2)), true);
    r.tx.send(job(0, false, 900)).await.expect("send");
    assert_eq!(r.next_started(), (false, 900));
    r.tx.send(job(0, true, 1500)).await.expect("send");
    // No go-ahead for the partial: only the final's arrival can end it.
    assert_eq!(r.next_started(), (true, 1500));
    r.go.send(()).expect("go");
    // The cancelled partial is neither heard nor a failure.
    assert_eq!(r.finish().await, ["final 1500", "done"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_later_partial_does_not_cancel_the_running_one() {
    let r = rig(Arc::new(Semaphore::new(2)), true);
    r.tx.send(job(0, false, 900)).await.expect("send");
    assert_eq!(r.next_started(), (false, 900));
    r.tx.send(job(0, false, 1900)).await.expect("send");
    tokio::time::sleep(Duration::from_millis(20)).await;
    r.go.send(()).expect("go");
    assert_eq!(r.next_started(), (false, 1900));
    r.go.send(()).expect("go");
    assert_eq!(r.finish().await, ["partial 900", "partial 1900", "done"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_waiting_for_the_pool_gives_way_to_the_final() {
    let pool = Arc::new(Semaphore::new(1));
    // Another stream holds the only recognition slot.
    let busy = Arc::clone(&pool).acquire_owned().await.expect("permit");
    let r = rig(Arc::clone(&pool), false);
    r.tx.send(job(1, false, 900)).await.expect("send");
    // Let the loop take the partial and wait for the pool with it.
    tokio::time::sleep(Duration::from_millis(20)).await;
    r.tx.send(job(1, true, 1400)).await.expect("send");
    tokio::time::sleep(Duration::from_millis(20)).await;
    drop(busy);
    assert_eq!(r.next_started(), (true, 1400));
    r.go.send(()).expect("go");
    assert_eq!(r.finish().await, ["final 1400", "done"]);
}

/// A candidate final of utterance `u`: the utterance up to `end_ms`, 200 ms of it silence after the speech.
fn candidate(u: u64, end_ms: u64) -> LiveJob {
    LiveJob {
        speech_end_ms: end_ms - 200,
        ..job(u, false, end_ms)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_candidate_cancels_the_partial_being_recognised() {
    let mut r = rig(Arc::new(Semaphore::new(2)), true);
    r.tx.send(job(0, false, 900)).await.expect("send");
    assert_eq!(r.next_started(), (false, 900));
    // The speaker paused: the candidate final is cut, and it starts at once (it is recognised as the final
    // will be), without waiting for the partial, which gets no go-ahead.
    r.tx.send(candidate(0, 2200)).await.expect("send");
    assert_eq!(r.next_started(), (true, 2200));
    r.go.send(()).expect("go");
    // The cancelled partial is not heard; the candidate is a partial until its final reuses it.
    assert_eq!(r.next_heard().await, "partial 2200");
    r.tx.send(job(0, true, 2200)).await.expect("send");
    assert_eq!(r.finish().await, ["final 2200", "done"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_final_of_a_candidate_being_recognised_waits_for_it_and_is_not_run_again() {
    let r = rig(Arc::new(Semaphore::new(2)), true);
    assert!(candidate(0, 2200).is_candidate() && !job(0, false, 2200).is_candidate());
    r.tx.send(candidate(0, 2200)).await.expect("send");
    // Recognised as a final would be.
    assert_eq!(r.next_started(), (true, 2200));
    r.tx.send(job(0, true, 2200)).await.expect("send");
    tokio::time::sleep(Duration::from_millis(20)).await;
    r.go.send(()).expect("go");
    // One recognition: the final is the candidate's result, and no partial was reported for it.
    assert_eq!(r.finish().await, ["final 2200", "done"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recognised_candidate_is_a_partial_until_its_final_reuses_it() {
    let mut r = rig(Arc::new(Semaphore::new(2)), true);
    r.tx.send(candidate(0, 2200)).await.expect("send");
    assert_eq!(r.next_started(), (true, 2200));
    r.go.send(()).expect("go");
    assert_eq!(r.next_heard().await, "partial 2200");
    r.tx.send(job(0, true, 2200)).await.expect("send");
    assert_eq!(r.next_heard().await, "final 2200");
    // Speech came back after the next candidate: its final holds more audio and is recognised.
    r.tx.send(candidate(1, 5200)).await.expect("send");
    assert_eq!(r.next_started(), (true, 5200));
    r.go.send(()).expect("go");
    assert_eq!(r.next_heard().await, "partial 5200");
    r.tx.send(job(1, true, 6000)).await.expect("send");
    assert_eq!(r.next_started(), (true, 6000));
    r.go.send(()).expect("go");
    assert_eq!(r.finish().await, ["final 6000", "done"]);
}

#[test]
fn the_pool_gives_each_recognition_its_own_cores() {
    use super::recognitions_at_once;
    // Two cores: two one-thread recognitions, or one of two threads (never two spinning pairs).
    assert_eq!(recognitions_at_once(2, 1), 2);
    assert_eq!(recognitions_at_once(2, 2), 1);
    assert_eq!(recognitions_at_once(8, 3), 2);
    // More threads than cores still runs one; 0 threads is read as 1.
    assert_eq!(recognitions_at_once(2, 4), 1);
    assert_eq!(recognitions_at_once(4, 0), 4);
}
