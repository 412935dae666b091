//! The live cutter and the inline transcriber, with a fake recogniser.

use super::*;

fn tone(ms: u32) -> Vec<f32> {
    (0..16 * ms)
        .map(|i| 0.3 * (i as f32 * 0.07).sin())
        .collect()
}

fn silence(ms: u32) -> Vec<f32> {
    vec![0.0; 16 * ms as usize]
}

fn pcm16(x: &[f32]) -> Vec<u8> {
    x.iter()
        .flat_map(|s| ((s * 32_767.0) as i16).to_le_bytes())
        .collect()
}

/// Says how many ms it heard, so the window each job carried is visible.
struct Fake;
impl Recognize for Fake {
    fn recognize(&mut self, pcm: &[f32]) -> Result<Vec<Segment>, AudioError> {
        Ok(vec![Segment {
            text: format!("heard {} ms", pcm.len() / 16),
            start_ms: 0,
            end_ms: (pcm.len() / 16) as u64,
            confidence: 0.9,
            no_speech: 0.0,
        }])
    }
}

#[test]
fn first_partial_at_400_ms_of_speech_then_every_second_then_a_final_after_the_pause() {
    let mut x = silence(500);
    x.extend(tone(2500));
    x.extend(silence(1000));
    x.extend(tone(400));
    x.extend(silence(1000));
    let mut live = LiveTranscriber::new(Fake, Encoding::Pcm16k, LiveOptions::default());
    let mut out = Vec::new();
    // Real-time-sized frames: 20 ms (640 bytes), and an odd-sized chunking to cross frame boundaries.
    for chunk in pcm16(&x).chunks(646) {
        out.extend(live.frame(chunk).unwrap());
    }
    out.extend(live.finish().unwrap());
    let partials: Vec<_> = out.iter().filter(|t| !t.is_final).collect();
    let finals: Vec<_> = out.iter().filter(|t| t.is_final).collect();
    assert_eq!(finals.len(), 2, "{out:?}");
    // Utterance 0: speech from 500 ms, opened at 300 ms (200 ms pre-roll); the first partial 400 ms into
    // the speech (at 900 ms), then one a second; 300 ms into the pause after it, the candidate final (the
    // utterance and its 200 ms of padding, to 3.2 s). Utterance 1 (speech 4.0–4.4 s) gets its first
    // partial at 4.4 s and its candidate at 4.7 s (audio to 4.6 s).
    let at: Vec<(u64, u64, u64)> = partials
        .iter()
        .map(|p| (p.utterance, p.start_ms, p.end_ms))
        .collect();
    assert_eq!(
        at,
        [
            (0, 300, 900),
            (0, 300, 1900),
            (0, 300, 2900),
            (0, 300, 3200),
            (1, 3800, 4400),
            (1, 3800, 4600)
        ],
        "{out:?}"
    );
    assert_eq!(partials[0].text, "heard 600 ms");
    // The candidate heard what its final hears.
    assert_eq!(partials[3].text, "heard 2900 ms");
    // The final: pre-roll + 2.5 s of speech + 200 ms padding.
    assert_eq!(finals[0].start_ms, 300);
    assert_eq!(finals[0].end_ms, 3200);
    assert_eq!(finals[0].text, "heard 2900 ms");
    assert_eq!(finals[1].utterance, 1);
    assert_eq!(finals[1].start_ms, 3800);
    // Everything of utterance 0 came before utterance 1.
    let first_of_1 = out.iter().position(|t| t.utterance == 1).unwrap();
    assert!(out[..first_of_1].iter().all(|t| t.utterance == 0));
}

#[test]
fn a_batch_that_closes_the_utterance_recognises_only_its_final() {
    // Audio arriving in one piece (a client catching up): the partials it cuts are superseded by the
    // final cut from the same piece.
    let mut x = silence(300);
    x.extend(tone(2500));
    x.extend(silence(1000));
    let mut live = LiveTranscriber::new(Fake, Encoding::Pcm16k, LiveOptions::default());
    let out = live.frame(&pcm16(&x)).unwrap();
    let got: Vec<(bool, &str)> = out.iter().map(|t| (t.is_final, t.text.as_str())).collect();
    assert_eq!(got, [(true, "heard 2900 ms")]);
}

#[test]
fn no_partial_without_new_speech() {
    // 0.5 s of speech (the first partial 400 ms in), pauses under end_silence_ms broken by two 40 ms
    // clicks (the second comes 1 s after the partial: without the rule it cut a partial of 160 ms of
    // new speech), then speech.
    let mut x = silence(300);
    x.extend(tone(500));
    for _ in 0..2 {
        x.extend(silence(500));
        x.extend(tone(40));
    }
    x.extend(silence(500));
    x.extend(tone(1000));
    x.extend(silence(1000));
    let mut seg = LiveSegmenter::new(LiveOptions::default());
    let mut jobs = seg.push(&x);
    jobs.extend(seg.finish());
    let partial_ends: Vec<u64> = jobs
        .iter()
        .filter(|j| !j.is_final && !j.is_candidate())
        .map(|j| j.end_ms)
        .collect();
    // The utterance opens at 100 ms: a partial at 700 ms; none at the second click (1.86 s: 100 ms of
    // speech after the partial + 80 ms of clicks); the next once 300 ms of new speech came (2.5 s).
    assert_eq!(partial_ends, [700, 2500], "{jobs:?}");
    // Candidate finals: 300 ms into the first pause (speech to 0.8 s + padding), none in the pauses after
    // the clicks (40 and 80 ms of new speech), one after the last speech (to 3.38 s + padding).
    let candidates: Vec<(u64, u64)> = jobs
        .iter()
        .filter(|j| j.is_candidate())
        .map(|j| (j.speech_end_ms, j.end_ms))
        .collect();
    assert_eq!(candidates, [(800, 1000), (3380, 3580)], "{jobs:?}");
    let last = jobs.last().expect("jobs");
    assert!(last.is_final && jobs[jobs.len() - 2].same_audio(last));
    assert_eq!(jobs.iter().filter(|j| j.is_final).count(), 1);
    assert_eq!(jobs[0].speech_start_ms, 300);
    let old = LiveOptions {
        partial_min_new_speech_ms: 0,
        ..LiveOptions::default()
    };
    let mut seg = LiveSegmenter::new(old);
    let jobs = seg.push(&x);
    let partial_ends: Vec<u64> = jobs
        .iter()
        .filter(|j| !j.is_final && !j.is_candidate())
        .map(|j| j.end_ms)
        .collect();
    assert_eq!(partial_ends, [700, 1860, 2860]);
}

#[test]
fn rolling_window_is_bounded() {
    let opts = LiveOptions {
        window_ms: 3000,
        ..LiveOptions::default()
    };
    let mut seg = LiveSegmenter::new(opts);
    let mut jobs = seg.push(&tone(8000));
    jobs.extend(seg.finish());
    let partials: Vec<_> = jobs.iter().filter(|j| !j.is_final).collect();
    assert_eq!(partials.len(), 8, "{:?}", jobs.len());
    assert!(partials.iter().all(|p| p.pcm.len() <= 3000 * 16));
    assert_eq!(partials.last().unwrap().pcm.len(), 3000 * 16);
    let last = jobs.last().unwrap();
    assert!(last.is_final);
    assert_eq!(last.pcm.len(), 8000 * 16);
}

#[test]
fn clicks_and_silence_give_nothing_and_long_speech_is_cut() {
    let mut seg = LiveSegmenter::new(LiveOptions::default());
    let mut x = silence(1000);
    x.extend(tone(40));
    x.extend(silence(2000));
    let mut jobs = seg.push(&x);
    jobs.extend(seg.finish());
    assert!(jobs.is_empty(), "{jobs:?}");

    let mut seg = LiveSegmenter::new(LiveOptions::default());
    let jobs = seg.push(&tone(61_000));
    let finals: Vec<_> = jobs.iter().filter(|j| j.is_final).collect();
    assert_eq!(finals.len(), 2);
    assert!(finals.iter().all(|j| j.pcm.len() <= 28 * 16_000));
    assert!(seg.in_utterance());
}

#[test]
fn a_stream_ending_in_the_pause_after_speech_keeps_the_candidates_audio_for_the_final() {
    // 2 s of speech from 300 ms, then the stream ends 500 ms into the pause: after the candidate (300 ms into
    // it), before end_silence_ms would have closed the utterance. A call that hangs up after its last words.
    let mut x = silence(300);
    x.extend(tone(2000));
    x.extend(silence(500));
    let mut seg = LiveSegmenter::new(LiveOptions::default());
    let mut jobs = seg.push(&x);
    let candidate = jobs.pop().expect("jobs");
    assert!(candidate.is_candidate(), "{candidate:?}");
    let fin = seg.finish();
    assert_eq!(fin.len(), 1);
    // The final ends where the silence close would have: speech to 2.3 s + 200 ms of padding (not 2.8 s).
    assert!(fin[0].is_final);
    assert_eq!((fin[0].start_ms, fin[0].end_ms), (100, 2500));
    assert!(candidate.same_audio(&fin[0]));

    // So the inline transcriber recognises it once: the final is the candidate's result.
    struct Counting(usize);
    impl Recognize for Counting {
        fn recognize(&mut self, pcm: &[f32]) -> Result<Vec<Segment>, AudioError> {
            self.0 += 1;
            Fake.recognize(pcm)
        }
    }
    let mut live = LiveTranscriber::new(Counting(0), Encoding::Pcm16k, LiveOptions::default());
    let mut out = live.frame(&pcm16(&x[..x.len() - 16 * 250])).unwrap();
    let before = live.recognizer.0;
    out.extend(live.frame(&pcm16(&x[x.len() - 16 * 250..])).unwrap());
    out.extend(live.finish().unwrap());
    // One recognition after the first 2.55 s: the candidate, reused by the final.
    assert_eq!(live.recognizer.0, before + 1, "{out:?}");
    let last = out.last().expect("transcripts");
    assert!(last.is_final);
    assert_eq!((last.end_ms, last.text.as_str()), (2500, "heard 2400 ms"));
}
