//! Recognising a recording's passes ([`crate::pack::plan`]): one after another, or side by side on the cores.
//!
//! A stereo call has one party per channel, and its passes are independent recognitions. ggml's threads
//! spin-wait for each other at every operation, and a decoder step is hundreds of small operations, so two
//! threads on one recognition decode little faster than one (benches/RESULTS.md, "Speech"): two channels,
//! each recognised with one thread at the same time, do the same work in less wall-clock time than both
//! recognised one after another with two threads each. So do two passes of one channel. The recogniser says
//! whether it can split itself ([`Recognize::fork`]); results are the same either way (each pass is
//! recognised alone, and the passes do not depend on the threads).

use super::Recognize;
use crate::vad::Utterance;
use crate::{AudioError, Segment};

/// One channel to recognise: its 16 kHz samples and its utterances, in order.
#[derive(Debug)]
pub(crate) struct Channel {
    pub pcm: Vec<f32>,
    pub cut: Vec<Utterance>,
}

/// Per channel, per utterance, what was heard. `max_samples`: the most audio of one pass
/// ([`crate::pack::plan`]). `side_by_side`: passes may be recognised at the same time when `rec` can split
/// its threads between them.
///
/// # Errors
/// The first recogniser error, in channel order.
pub(crate) fn recognise(
    rec: &mut dyn Recognize,
    channels: &[Channel],
    max_samples: usize,
    side_by_side: bool,
) -> Result<Vec<Vec<Vec<Segment>>>, AudioError> {
    let cuts: Vec<&[Utterance]> = channels.iter().map(|c| c.cut.as_slice()).collect();
    let passes = crate::pack::plan(&cuts, max_samples);
    let forks = if side_by_side && passes.len() > 1 {
        rec.fork(passes.len())?
    } else {
        Vec::new()
    };
    let mut heard: Vec<Option<Result<Vec<Vec<Segment>>, AudioError>>> =
        passes.iter().map(|_| None).collect();
    if forks.is_empty() {
        for (slot, (c, g)) in heard.iter_mut().zip(&passes) {
            *slot = Some(one_pass(rec, &channels[*c], g.clone()));
        }
    } else {
        // The longest pass left goes to the first worker free (worker 0 is `rec` itself, on this thread).
        let mut order: Vec<usize> = (0..passes.len()).collect();
        let samples = |i: &usize| {
            let (c, g) = &passes[*i];
            channels[*c].cut[g.clone()]
                .iter()
                .map(|u| u.end - u.start)
                .sum::<usize>()
        };
        order.sort_by_key(|i| std::cmp::Reverse(samples(i)));
        let queue = std::sync::Mutex::new(order.into_iter());
        let next = || queue.lock().map_or(None, |mut q| q.next());
        let work = |r: &mut dyn Recognize| {
            let mut out = Vec::new();
            while let Some(i) = next() {
                let (c, g) = &passes[i];
                out.push((i, one_pass(r, &channels[*c], g.clone())));
            }
            out
        };
        let forks_back = std::thread::scope(|s| {
            let workers: Vec<_> = forks
                .into_iter()
                .map(|mut fork| {
                    s.spawn(move || {
                        let out = work(&mut *fork);
                        (fork, out)
                    })
                })
                .collect();
            let mut done = work(rec);
            let mut back = Vec::with_capacity(workers.len());
            for w in workers {
                // A worker only panics if the recogniser does; say so rather than unwind across the call.
                let Ok((fork, out)) = w.join() else {
                    return Err(AudioError::Recognition(
                        "a recognition thread panicked".into(),
                    ));
                };
                back.push(fork);
                done.extend(out);
            }
            Ok((back, done))
        });
        match forks_back {
            Ok((forks, done)) => {
                rec.unfork(forks);
                for (i, r) in done {
                    heard[i] = Some(r);
                }
            }
            Err(e) => {
                rec.unfork(Vec::new());
                return Err(e);
            }
        }
    }
    // Passes back in channel order.
    let mut out: Vec<Vec<Vec<Segment>>> = channels
        .iter()
        .map(|c| Vec::with_capacity(c.cut.len()))
        .collect();
    for ((c, _), h) in passes.iter().zip(heard) {
        out[*c].extend(h.unwrap_or_else(|| Ok(Vec::new()))?);
    }
    Ok(out)
}

/// One pass: a channel's utterances `group`, packed when there are several.
fn one_pass(
    rec: &mut dyn Recognize,
    c: &Channel,
    group: std::ops::Range<usize>,
) -> Result<Vec<Vec<Segment>>, AudioError> {
    match &c.cut[group] {
        [u] => Ok(vec![rec.recognize(&c.pcm[u.start..u.end])?]),
        us => rec.recognize_many(&c.pcm, us),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Condvar, Mutex};

    use super::*;
    use crate::StageTimes;

    /// The threads a recognition ran on, and a signal when another joins.
    type Seen = Arc<(Mutex<Vec<std::thread::ThreadId>>, Condvar)>;

    /// Hears each utterance as "{its length in ms}" and forks into as many recognisers as it has threads;
    /// counts the recognitions in its stage times. Its first recognition on a thread waits (at most 10 s)
    /// until `meet` threads have recognised something: workers take passes from a queue, and an instant
    /// fake would otherwise let the first worker take them all before the next one starts.
    struct Threads {
        threads: usize,
        meet: usize,
        ran_on: Seen,
        calls: u64,
        taken_back: u64,
    }

    impl Threads {
        fn new(threads: usize) -> Threads {
            Threads {
                threads,
                meet: threads,
                ran_on: Arc::default(),
                calls: 0,
                taken_back: 0,
            }
        }

        fn seen(&self) -> usize {
            self.ran_on.0.lock().expect("lock").len()
        }
    }

    impl Recognize for Threads {
        fn recognize(&mut self, pcm: &[f32]) -> Result<Vec<Segment>, AudioError> {
            self.calls += 1;
            let me = std::thread::current().id();
            let (lock, joined) = &*self.ran_on;
            let mut seen = lock.lock().expect("lock");
            if !seen.contains(&me) {
                seen.push(me);
                joined.notify_all();
            }
            let wait = std::time::Duration::from_secs(10);
            drop(
                joined
                    .wait_timeout_while(seen, wait, |s| s.len() < self.meet)
                    .expect("lock"),
            );
            Ok(vec![Segment {
                text: format!("{}", pcm.len() / 16),
                start_ms: 0,
                end_ms: pcm.len() as u64 / 16,
                confidence: 0.9,
                no_speech: 0.0,
            }])
        }

        fn take_times(&mut self) -> StageTimes {
            StageTimes {
                calls: std::mem::take(&mut self.calls) + std::mem::take(&mut self.taken_back),
                ..StageTimes::default()
            }
        }

        fn fork(&mut self, ways: usize) -> Result<Vec<Box<dyn Recognize + Send>>, AudioError> {
            let n = ways.min(self.threads);
            Ok((1..n)
                .map(|_| {
                    Box::new(Threads {
                        threads: 1,
                        meet: self.meet,
                        ran_on: Arc::clone(&self.ran_on),
                        calls: 0,
                        taken_back: 0,
                    }) as Box<dyn Recognize + Send>
                })
                .collect())
        }

        fn unfork(&mut self, forks: Vec<Box<dyn Recognize + Send>>) {
            for mut f in forks {
                self.taken_back += f.take_times().calls;
            }
        }
    }

    fn channel(lengths_ms: &[usize]) -> Channel {
        let mut cut = Vec::new();
        let mut at = 0;
        for ms in lengths_ms {
            cut.push(Utterance {
                start: at,
                end: at + ms * 16,
            });
            at += ms * 16 + 16_000;
        }
        Channel {
            pcm: vec![0.0; at],
            cut,
        }
    }

    fn texts(heard: &[Vec<Vec<Segment>>]) -> Vec<Vec<String>> {
        heard
            .iter()
            .map(|c| c.iter().map(|u| u[0].text.clone()).collect())
            .collect()
    }

    #[test]
    fn side_by_side_hears_what_one_after_another_hears() {
        let channels = [
            channel(&[500, 700]),
            channel(&[]),
            channel(&[300]),
            channel(&[900]),
        ];
        let mut alone = Threads::new(1);
        let one_by_one = recognise(&mut alone, &channels, 0, true).expect("ok");
        // One thread: nothing to share, every channel on this thread.
        assert_eq!(alone.seen(), 1);
        let mut two = Threads::new(2);
        let side = recognise(&mut two, &channels, 0, true).expect("ok");
        assert_eq!(
            texts(&side),
            [vec!["500", "700"], vec![], vec!["300"], vec!["900"]]
        );
        assert_eq!(texts(&side), texts(&one_by_one));
        // Two threads ran them, and the fork's recognitions came back with it.
        assert_eq!(two.seen(), 2);
        assert_eq!(two.take_times().calls, 4);
        // Asked not to, or with a single pass, nothing is forked.
        let mut off = Threads {
            meet: 1,
            ..Threads::new(2)
        };
        recognise(&mut off, &channels, 0, false).expect("ok");
        assert_eq!(off.seen(), 1);
        let mut single = Threads {
            meet: 1,
            ..Threads::new(2)
        };
        let one = recognise(&mut single, &channels[..2], 1_000_000, true).expect("ok");
        assert_eq!(texts(&one), [vec!["500", "700"], vec![]]);
        assert_eq!(single.seen(), 1);
        // One channel's two passes are shared out like two channels'.
        let mut mono = Threads::new(2);
        let two = recognise(&mut mono, &channels[..2], 0, true).expect("ok");
        assert_eq!(texts(&two), [vec!["500", "700"], vec![]]);
        assert_eq!(mono.seen(), 2);
    }
}
