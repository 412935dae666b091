//! Recognising a call's channels: one after another, or side by side on the cores.
//!
//! A stereo call has one party per channel, and their recognitions are independent. ggml's threads
//! spin-wait for each other at every operation, and a decoder step is hundreds of small operations, so two
//! threads on one recognition decode little faster than one (benches/RESULTS.md, "Speech"): two channels,
//! each recognised with one thread at the same time, do the same work in less wall-clock time than both
//! recognised one after another with two threads each. The recogniser says whether it can split itself
//! ([`Recognize::fork`]); results are the same either way (each pass is recognised alone).

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
/// ([`crate::pack::groups`]). `side_by_side`: channels may be recognised at the same time when `rec` can
/// split its threads between them.
///
/// # Errors
/// The first channel's recogniser error, in channel order.
pub(crate) fn recognise(
    rec: &mut dyn Recognize,
    channels: &[Channel],
    max_samples: usize,
    side_by_side: bool,
) -> Result<Vec<Vec<Vec<Segment>>>, AudioError> {
    let busy = channels.iter().filter(|c| !c.cut.is_empty()).count();
    let forks = if side_by_side && busy > 1 {
        rec.fork(busy)?
    } else {
        Vec::new()
    };
    if forks.is_empty() {
        return channels
            .iter()
            .map(|c| one_channel(rec, c, max_samples))
            .collect();
    }
    // Channel k goes to worker k mod ways (worker 0 is `rec` itself, on this thread); silent channels need
    // no worker.
    let ways = forks.len() + 1;
    let order: Vec<usize> = (0..channels.len())
        .filter(|&i| !channels[i].cut.is_empty())
        .collect();
    let mut heard: Vec<Option<Result<Vec<Vec<Segment>>, AudioError>>> =
        channels.iter().map(|_| None).collect();
    let forks_back = std::thread::scope(|s| {
        let workers: Vec<_> = forks
            .into_iter()
            .enumerate()
            .map(|(w, mut fork)| {
                let mine: Vec<usize> = order.iter().copied().skip(w + 1).step_by(ways).collect();
                s.spawn(move || {
                    let out: Vec<_> = mine
                        .into_iter()
                        .map(|i| (i, one_channel(&mut *fork, &channels[i], max_samples)))
                        .collect();
                    (fork, out)
                })
            })
            .collect();
        for &i in order.iter().step_by(ways) {
            heard[i] = Some(one_channel(rec, &channels[i], max_samples));
        }
        let mut back = Vec::with_capacity(workers.len());
        for w in workers {
            // A worker only panics if the recogniser does; say so rather than unwind across the call.
            match w.join() {
                Ok((fork, out)) => {
                    back.push(fork);
                    for (i, r) in out {
                        heard[i] = Some(r);
                    }
                }
                Err(_) => {
                    return Err(AudioError::Recognition(
                        "a channel's recognition thread panicked".into(),
                    ));
                }
            }
        }
        Ok(back)
    });
    match forks_back {
        Ok(forks) => rec.unfork(forks),
        Err(e) => {
            rec.unfork(Vec::new());
            return Err(e);
        }
    }
    heard
        .into_iter()
        .map(|h| h.unwrap_or_else(|| Ok(Vec::new())))
        .collect()
}

/// A channel's utterances recognised pass by pass (neighbours packed up to `max_samples`).
fn one_channel(
    rec: &mut dyn Recognize,
    c: &Channel,
    max_samples: usize,
) -> Result<Vec<Vec<Segment>>, AudioError> {
    let mut out = Vec::with_capacity(c.cut.len());
    for group in crate::pack::groups(&c.cut, max_samples) {
        let us = &c.cut[group];
        if let [u] = us {
            out.push(rec.recognize(&c.pcm[u.start..u.end])?);
        } else {
            out.extend(rec.recognize_many(&c.pcm, us)?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::StageTimes;

    /// Hears each utterance as "{its length in ms}@{the thread it ran on}" and forks into as many
    /// recognisers as it has threads; counts the recognitions in its stage times.
    struct Threads {
        threads: usize,
        ran_on: Arc<Mutex<Vec<std::thread::ThreadId>>>,
        calls: u64,
        taken_back: u64,
    }

    impl Threads {
        fn new(threads: usize) -> Threads {
            Threads {
                threads,
                ran_on: Arc::default(),
                calls: 0,
                taken_back: 0,
            }
        }
    }

    impl Recognize for Threads {
        fn recognize(&mut self, pcm: &[f32]) -> Result<Vec<Segment>, AudioError> {
            self.calls += 1;
            let me = std::thread::current().id();
            let mut seen = self.ran_on.lock().expect("lock");
            if !seen.contains(&me) {
                seen.push(me);
            }
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
        assert_eq!(alone.ran_on.lock().expect("lock").len(), 1);
        let mut two = Threads::new(2);
        let side = recognise(&mut two, &channels, 0, true).expect("ok");
        assert_eq!(
            texts(&side),
            [vec!["500", "700"], vec![], vec!["300"], vec!["900"]]
        );
        assert_eq!(texts(&side), texts(&one_by_one));
        // Two threads ran them, and the fork's recognitions came back with it.
        assert_eq!(two.ran_on.lock().expect("lock").len(), 2);
        assert_eq!(two.take_times().calls, 4);
        // Asked not to, or with one channel that speaks, nothing is forked.
        let mut off = Threads::new(2);
        recognise(&mut off, &channels, 0, false).expect("ok");
        assert_eq!(off.ran_on.lock().expect("lock").len(), 1);
        let mut single = Threads::new(2);
        recognise(&mut single, &channels[..2], 0, true).expect("ok");
        assert_eq!(single.ran_on.lock().expect("lock").len(), 1);
    }
}
