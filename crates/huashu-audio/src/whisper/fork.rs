//! A Whisper's threads shared out between channels recognised at the same time (`call/channels.rs`).

use super::Whisper;
use crate::{AudioError, Recognize};

impl Whisper {
    /// Up to `ways - 1` more decoders over the same weights (no Silero VAD: channels are already cut),
    /// the threads split evenly with this one; none when there is only one thread to give.
    pub(super) fn fork_threads(
        &mut self,
        ways: usize,
    ) -> Result<Vec<Box<dyn Recognize + Send>>, AudioError> {
        let threads = self.options.threads.max(1);
        let ways = ways.min(threads);
        if ways < 2 {
            return Ok(Vec::new());
        }
        let each = threads / ways;
        let mut forks: Vec<Box<dyn Recognize + Send>> = Vec::with_capacity(ways - 1);
        for _ in 1..ways {
            let mut options = self.options.clone();
            options.threads = each;
            options.silero_vad = None;
            let mut w = Whisper::with_context(std::sync::Arc::clone(&self.ctx), options)?;
            w.profile = self.profile;
            forks.push(Box::new(w));
        }
        self.forked_from = Some(threads);
        self.options.threads = threads - each * (ways - 1);
        Ok(forks)
    }

    /// The forks' stage times added to this one's, its threads given back.
    pub(super) fn unfork_threads(&mut self, forks: Vec<Box<dyn Recognize + Send>>) {
        for mut f in forks {
            self.times += f.take_times();
        }
        if let Some(t) = self.forked_from.take() {
            self.options.threads = t;
        }
    }
}
