//! A whole call: channels → roles → utterances → recognised, timed turns.

use std::path::Path;
use std::time::Instant;

use huashu_engine::{Role, Turn};
use serde::Serialize;

use crate::vad::{self, VadOptions};
use crate::{Audio, AudioError, Segment, TARGET_RATE, decode_file, resample};
use channels::Channel;

mod channels;

/// A speech recogniser over 16 kHz mono samples (Whisper, or a fake in tests).
pub trait Recognize {
    /// # Errors
    /// Whatever the recogniser reports.
    fn recognize(&mut self, pcm: &[f32]) -> Result<Vec<Segment>, AudioError>;

    /// The recogniser's own voice activity detector, if it has one (Whisper with a Silero model): the
    /// utterances of a 16 kHz channel. `None`: the energy VAD ([`vad::utterances`]) cuts.
    fn utterances(
        &mut self,
        _pcm: &[f32],
        _opts: &VadOptions,
    ) -> Option<Result<Vec<vad::Utterance>, AudioError>> {
        None
    }

    /// Recognises neighbouring utterances of one channel (`pcm`; `cut` in order, at most
    /// [`crate::pack::PACK_MS`] of audio together): one segment list per utterance, times relative to it.
    /// By default one pass per utterance; Whisper packs them into one pass ([`crate::pack`]).
    ///
    /// # Errors
    /// Whatever the recogniser reports.
    fn recognize_many(
        &mut self,
        pcm: &[f32],
        cut: &[vad::Utterance],
    ) -> Result<Vec<Vec<Segment>>, AudioError> {
        cut.iter()
            .map(|u| self.recognize(&pcm[u.start..u.end]))
            .collect()
    }

    /// Time spent in each recogniser stage since the last call (for `huashu bench --audio`); recognisers
    /// that do not profile report only nothing.
    fn take_times(&mut self) -> StageTimes {
        StageTimes::default()
    }

    /// Measure each recognition's stages ([`Recognize::take_times`]) from now on (profiling may cost
    /// time of its own: `huashu bench` times the path without it). Recognisers that do not profile ignore it.
    fn set_profile(&mut self, _on: bool) {}

    /// Up to `ways - 1` more recognisers over the same model, each to recognise other passes (of any
    /// channel) while this one recognises its own, this one's threads shared out between them all
    /// (`call/channels.rs`). Empty (the default): passes are recognised one after another.
    ///
    /// # Errors
    /// When another recogniser cannot be made.
    fn fork(&mut self, _ways: usize) -> Result<Vec<Box<dyn Recognize + Send>>, AudioError> {
        Ok(Vec::new())
    }

    /// Takes back the recognisers [`Recognize::fork`] gave (their stage times with them) and this one's
    /// threads.
    fn unfork(&mut self, _forks: Vec<Box<dyn Recognize + Send>>) {}
}

/// Milliseconds spent per recogniser stage (log-mel spectrogram, encoder, decoder), summed over calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct StageTimes {
    pub mel_ms: f64,
    pub encoder_ms: f64,
    pub decoder_ms: f64,
    /// Recogniser calls (utterances or windows) these times cover.
    pub calls: u64,
    /// Time the profiling itself took inside the recogniser calls (not part of any stage).
    pub overhead_ms: f64,
    /// Encoder windows run: Whisper runs another window (encoder and decoder) when a pass's text ends at a
    /// timestamp well before its audio does, so this can exceed `calls`.
    pub windows: u64,
    /// Tokens the decoder kept (text and timestamp tokens; each is one decoder step).
    pub tokens: u64,
}

impl std::ops::AddAssign for StageTimes {
    fn add_assign(&mut self, o: StageTimes) {
        self.mel_ms += o.mel_ms;
        self.encoder_ms += o.encoder_ms;
        self.decoder_ms += o.decoder_ms;
        self.calls += o.calls;
        self.overhead_ms += o.overhead_ms;
        self.windows += o.windows;
        self.tokens += o.tokens;
    }
}

/// Wall-clock times of the pipeline stages outside the recogniser, filled by [`transcribe_timed`] (for `huashu bench --audio`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PipelineTimes {
    pub resample_ms: f64,
    pub vad_ms: f64,
    pub recognise_ms: f64,
    pub utterances: usize,
}

/// Milliseconds since `t` (the stage timings here, in `bench` and in the recogniser).
pub fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// `text` in simplified characters (huashu-text's traditional→simplified fold, ambiguous characters by the
/// word around them); nothing else changes. Whisper writes Mandarin in either script.
pub fn simplify(text: &str) -> String {
    if !text.chars().any(huashu_text::is_cjk) {
        return text.to_owned();
    }
    let opts = huashu_text::Options {
        width: false,
        case: false,
        traditional: true,
        numbers: false,
        noise: false,
        repeats: false,
        spelling: false,
        mentions: false,
        pronouns: false,
        sentence_spaces: false,
    };
    huashu_text::normalize(text, &opts).as_str().to_owned()
}

/// A recogniser's text as the matcher should see it: simplified characters ([`simplify`]) and Whisper's
/// decoding loops cut back ([`crate::collapse_loops`]).
pub fn clean_transcript(raw: &str) -> String {
    let text = simplify(raw);
    match crate::collapse_loops(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(cut) => cut,
    }
}

/// Which role speaks on which channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelMap {
    /// Role of channel i (0 = left).
    pub roles: Vec<Role>,
    /// Role of a mono recording's only channel.
    pub mono: Role,
}

impl Default for ChannelMap {
    /// Left = agent, right = customer (the usual call-recorder layout); mono = agent.
    fn default() -> Self {
        ChannelMap {
            roles: vec![Role::Agent, Role::Customer],
            mono: Role::Agent,
        }
    }
}

impl std::str::FromStr for ChannelMap {
    type Err = AudioError;

    /// `"agent,customer"` (left, right), `"customer,agent"`; a role may be `-` to ignore that channel.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut roles = Vec::new();
        for part in s.split(',').map(str::trim) {
            match part {
                "-" | "skip" | "none" => roles.push(Role::System),
                p => roles.push(Role::parse(p).ok_or_else(|| AudioError::ChannelMap(s.into()))?),
            }
        }
        if roles.is_empty() || s.trim().is_empty() {
            return Err(AudioError::ChannelMap(s.into()));
        }
        Ok(ChannelMap {
            mono: roles[0],
            roles,
        })
    }
}

/// Options of [`transcribe_audio`].
#[derive(Debug, Clone)]
pub struct CallOptions {
    pub channels: ChannelMap,
    pub vad: VadOptions,
    /// Neighbouring utterances of a channel are recognised together, up to this much audio per pass
    /// ([`Recognize::recognize_many`]); 0: each utterance alone.
    pub pack_ms: u32,
    /// Recognise the passes ([`crate::pack::plan`]: a channel's, or both channels') at the same time, the
    /// recogniser's threads split between them ([`Recognize::fork`]), instead of one after another with all
    /// threads each.
    pub side_by_side: bool,
}

impl Default for CallOptions {
    fn default() -> Self {
        CallOptions {
            channels: ChannelMap::default(),
            vad: VadOptions::default(),
            pack_ms: crate::pack::PACK_MS,
            side_by_side: true,
        }
    }
}

/// A recognised turn with its recogniser confidence and source channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AudioTurn {
    #[serde(flatten)]
    pub turn: Turn,
    pub confidence: f32,
    pub channel: usize,
}

/// Decodes and transcribes the recording at `path`.
///
/// # Errors
/// Decoding errors ([`decode_file`]), a channel map that does not fit, recogniser errors.
pub fn transcribe_file(
    path: &Path,
    rec: &mut dyn Recognize,
    opts: &CallOptions,
) -> Result<Vec<AudioTurn>, AudioError> {
    transcribe_audio(&decode_file(path)?, rec, opts)
}

/// Transcribes decoded audio: each channel (by its role) at 16 kHz, cut by the VAD, recognised utterance by
/// utterance; turns of all channels merged by start time.
///
/// # Errors
/// [`AudioError::Channels`] when the recording has more channels than the map names (more than one), and
/// resampling or recogniser errors.
pub fn transcribe_audio(
    audio: &Audio,
    rec: &mut dyn Recognize,
    opts: &CallOptions,
) -> Result<Vec<AudioTurn>, AudioError> {
    transcribe_timed(audio, rec, opts, &mut PipelineTimes::default())
}

/// [`transcribe_audio`], adding the time spent resampling, cutting and recognising to `times`.
pub(crate) fn transcribe_timed(
    audio: &Audio,
    rec: &mut dyn Recognize,
    opts: &CallOptions,
    times: &mut PipelineTimes,
) -> Result<Vec<AudioTurn>, AudioError> {
    let n = audio.channels.len();
    let roles: Vec<Role> = if n == 1 {
        vec![opts.channels.mono]
    } else if n <= opts.channels.roles.len() {
        opts.channels.roles[..n].to_vec()
    } else {
        return Err(AudioError::Channels {
            got: n,
            want: opts.channels.roles.len(),
        });
    };
    // (channel index, role) of each channel kept, and its audio cut into utterances.
    let mut kept = Vec::new();
    let mut channels = Vec::new();
    for (channel, (samples, role)) in audio.channels.iter().zip(roles).enumerate() {
        if role == Role::System {
            continue; // an ignored channel
        }
        let t = Instant::now();
        let pcm = resample(samples, audio.rate, TARGET_RATE)?;
        times.resample_ms += ms_since(t);
        let t = Instant::now();
        let cut = match rec.utterances(&pcm, &opts.vad) {
            Some(cut) => cut?,
            None => vad::utterances(&pcm, TARGET_RATE, &opts.vad),
        };
        times.vad_ms += ms_since(t);
        times.utterances += cut.len();
        kept.push((channel, role));
        channels.push(Channel { pcm, cut });
    }
    let max = opts.pack_ms as usize * TARGET_RATE as usize / 1000;
    let t = Instant::now();
    let heard = channels::recognise(rec, &channels, max, opts.side_by_side)?;
    times.recognise_ms += ms_since(t);
    let mut turns = Vec::new();
    for (((channel, role), c), heard) in kept.into_iter().zip(&channels).zip(&heard) {
        for (u, segs) in c.cut.iter().zip(heard) {
            if let Some(t) = merge_segments(segs, role, channel, u.start, u.end) {
                turns.push(t);
            }
        }
    }
    turns.sort_by_key(|t| (t.turn.start_ms, t.channel));
    Ok(turns)
}

const fn ms(samples: usize) -> u64 {
    samples as u64 * 1000 / TARGET_RATE as u64
}

/// One turn per utterance: the segments' text joined, times of the utterance (VAD), confidence the mean of
/// the segments' weighted by length. Segments that are probably not speech are dropped.
fn merge_segments(
    segs: &[Segment],
    role: Role,
    channel: usize,
    start: usize,
    end: usize,
) -> Option<AudioTurn> {
    let kept: Vec<&Segment> = segs
        .iter()
        .filter(|s| !s.text.trim().is_empty())
        .filter(|s| !(s.no_speech > 0.8 && s.confidence < 0.5))
        .collect();
    if kept.is_empty() {
        return None;
    }
    let mut text = String::new();
    for s in &kept {
        let t = s.text.trim();
        // Latin words need a space between segments; Chinese does not.
        if text
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == ',' || c == '.')
            && t.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        {
            text.push(' ');
        }
        text.push_str(t);
    }
    let weight: usize = kept.iter().map(|s| s.text.chars().count().max(1)).sum();
    let confidence = kept
        .iter()
        .map(|s| s.confidence.clamp(0.0, 1.0) * s.text.chars().count().max(1) as f32)
        .sum::<f32>()
        / weight.max(1) as f32;
    Some(AudioTurn {
        turn: Turn::new(role, text).with_times(ms(start), ms(end)),
        confidence,
        channel,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Recognises any utterance as "u{n}" with its length in ms.
    struct Fake(usize);

    impl Recognize for Fake {
        fn recognize(&mut self, pcm: &[f32]) -> Result<Vec<Segment>, AudioError> {
            self.0 += 1;
            Ok(vec![Segment {
                text: format!("u{} {}", self.0, pcm.len() / 16),
                start_ms: 0,
                end_ms: ms(pcm.len()),
                confidence: 0.9,
                no_speech: 0.0,
            }])
        }
    }

    fn tone(ms: usize) -> Vec<f32> {
        (0..16 * ms)
            .map(|i| 0.3 * (i as f32 * 0.05).sin())
            .collect()
    }

    #[test]
    fn stereo_channels_become_roles_merged_by_time() {
        // Agent speaks 0.5–1.5 s and 4–5 s; customer 2–3 s. At 8 kHz to exercise resampling.
        let mut agent = vec![0.0; 6 * 16_000];
        let mut customer = vec![0.0; 6 * 16_000];
        agent[8_000..24_000].copy_from_slice(&tone(1000));
        agent[64_000..80_000].copy_from_slice(&tone(1000));
        customer[32_000..48_000].copy_from_slice(&tone(1000));
        let half = |v: &Vec<f32>| v.iter().step_by(2).copied().collect::<Vec<f32>>();
        let audio = Audio {
            rate: 8_000,
            channels: vec![half(&agent), half(&customer)],
        };
        let turns = transcribe_audio(&audio, &mut Fake(0), &CallOptions::default()).expect("ok");
        let roles: Vec<Role> = turns.iter().map(|t| t.turn.role).collect();
        assert_eq!(
            roles,
            [Role::Agent, Role::Customer, Role::Agent],
            "{turns:?}"
        );
        let s = turns[1].turn.start_ms.expect("start");
        assert!((1_700..=2_000).contains(&s), "{turns:?}");
        assert!(turns.iter().all(|t| t.turn.start_ms < t.turn.end_ms));

        let swapped: ChannelMap = "customer,agent".parse().expect("map");
        let opts = CallOptions {
            channels: swapped,
            ..Default::default()
        };
        let turns = transcribe_audio(&audio, &mut Fake(0), &opts).expect("ok");
        assert_eq!(turns[0].turn.role, Role::Customer);
    }

    /// A recogniser with its own VAD (as Whisper with Silero): it cuts 0.25–0.75 s and 2–2.5 s, whatever
    /// the energy says.
    struct OwnVad(Fake);

    impl Recognize for OwnVad {
        fn recognize(&mut self, pcm: &[f32]) -> Result<Vec<Segment>, AudioError> {
            self.0.recognize(pcm)
        }

        fn utterances(
            &mut self,
            _pcm: &[f32],
            _opts: &VadOptions,
        ) -> Option<Result<Vec<vad::Utterance>, AudioError>> {
            Some(Ok(vec![
                vad::Utterance {
                    start: 4_000,
                    end: 12_000,
                },
                vad::Utterance {
                    start: 32_000,
                    end: 40_000,
                },
            ]))
        }
    }

    #[test]
    fn a_recogniser_with_its_own_vad_cuts_the_utterances() {
        let audio = Audio {
            rate: 16_000,
            channels: vec![tone(3000)],
        };
        let turns =
            transcribe_audio(&audio, &mut OwnVad(Fake(0)), &CallOptions::default()).expect("ok");
        let cut: Vec<(Option<u64>, Option<u64>, &str)> = turns
            .iter()
            .map(|t| (t.turn.start_ms, t.turn.end_ms, t.turn.text.as_str()))
            .collect();
        assert_eq!(
            cut,
            [
                (Some(250), Some(750), "u1 500"),
                (Some(2000), Some(2500), "u2 500")
            ]
        );
        // The energy VAD would have made one utterance of the whole 3 s tone.
        let turns = transcribe_audio(&audio, &mut Fake(0), &CallOptions::default()).expect("ok");
        assert_eq!(turns.len(), 1);
    }

    /// Hears each burst of sound as "t{its length in ms}", timed within what it was given, and packs
    /// neighbouring utterances as Whisper does, counting its passes.
    #[derive(Default)]
    struct Bursts {
        passes: usize,
    }

    impl Recognize for Bursts {
        fn recognize(&mut self, pcm: &[f32]) -> Result<Vec<Segment>, AudioError> {
            self.passes += 1;
            let loud: Vec<bool> = pcm
                .chunks(320)
                .map(|c| c.iter().any(|x| x.abs() > 0.01))
                .collect();
            let mut out = Vec::new();
            let mut i = 0;
            while i < loud.len() {
                if !loud[i] {
                    i += 1;
                    continue;
                }
                let from = i;
                while i < loud.len() && loud[i] {
                    i += 1;
                }
                out.push(Segment {
                    text: format!("t{}", (i - from) * 20),
                    start_ms: from as u64 * 20,
                    end_ms: i as u64 * 20,
                    confidence: 0.9,
                    no_speech: 0.0,
                });
            }
            Ok(out)
        }

        fn recognize_many(
            &mut self,
            pcm: &[f32],
            cut: &[vad::Utterance],
        ) -> Result<Vec<Vec<Segment>>, AudioError> {
            let segs = self.recognize(&crate::pack::packed(pcm, cut))?;
            Ok(crate::pack::split_segments(&crate::pack::layout(cut), segs))
        }
    }

    #[test]
    fn neighbouring_utterances_share_a_pass_and_keep_their_own_text_and_times() {
        // Speech 0.5–1.5 s, 3–4.2 s and 8–8.6 s: padded utterances of 1.4, 1.6 and 1.0 s.
        let mut x = vec![0.0; 10 * 16_000];
        x[8_000..24_000].copy_from_slice(&tone(1000));
        x[48_000..67_200].copy_from_slice(&tone(1200));
        x[128_000..137_600].copy_from_slice(&tone(600));
        let audio = Audio {
            rate: 16_000,
            channels: vec![x],
        };
        let opts = CallOptions {
            pack_ms: 3_000,
            ..CallOptions::default()
        };
        let mut rec = Bursts::default();
        let turns = transcribe_audio(&audio, &mut rec, &opts).expect("ok");
        // 1.4 + 1.6 s fit in 3 s; the third utterance is a pass of its own.
        assert_eq!(rec.passes, 2);
        let got: Vec<(&str, Option<u64>, Option<u64>)> = turns
            .iter()
            .map(|t| (t.turn.text.as_str(), t.turn.start_ms, t.turn.end_ms))
            .collect();
        assert_eq!(
            got,
            [
                ("t1000", Some(300), Some(1700)),
                ("t1200", Some(2800), Some(4400)),
                ("t600", Some(7800), Some(8800))
            ]
        );
        // The same turns one utterance per pass.
        let mut alone = Bursts::default();
        let opts = CallOptions { pack_ms: 0, ..opts };
        let one_by_one = transcribe_audio(&audio, &mut alone, &opts).expect("ok");
        assert_eq!(alone.passes, 3);
        assert_eq!(one_by_one, turns);
    }

    #[test]
    fn simplify_folds_script_only() {
        assert_eq!(
            simplify("您好,這不適合我的問題,我不知道。"),
            "您好,这不适合我的问题,我不知道。"
        );
        assert_eq!(
            simplify("Ask not, WHAT  you can do"),
            "Ask not, WHAT  you can do"
        );
        assert_eq!(simplify("退貨 100 元，謝謝！！"), "退货 100 元，谢谢！！");
    }

    #[test]
    fn channel_map_parsing_and_mismatch() {
        assert!("agent,customer".parse::<ChannelMap>().is_ok());
        assert!("agent,robot".parse::<ChannelMap>().is_err());
        assert!("".parse::<ChannelMap>().is_err());
        let audio = Audio {
            rate: 16_000,
            channels: vec![tone(500), tone(500), tone(500)],
        };
        let e = transcribe_audio(&audio, &mut Fake(0), &CallOptions::default());
        assert!(matches!(e, Err(AudioError::Channels { got: 3, want: 2 })));
    }

    #[test]
    fn segments_join_and_empty_or_non_speech_dropped() {
        let seg = |t: &str, c: f32, ns: f32| Segment {
            text: t.into(),
            start_ms: 0,
            end_ms: 1,
            confidence: c,
            no_speech: ns,
        };
        let t = merge_segments(
            &[
                seg(" I can", 0.8, 0.0),
                seg(" help.", 0.6, 0.0),
                seg(" ", 0.1, 0.0),
            ],
            Role::Agent,
            0,
            0,
            16_000,
        )
        .expect("turn");
        assert_eq!(t.turn.text, "I can help.");
        assert!(t.confidence > 0.6 && t.confidence < 0.8);
        assert!(merge_segments(&[seg("嗯", 0.2, 0.95)], Role::Agent, 0, 0, 1).is_none());
    }
}
