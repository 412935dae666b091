//! Huashu's speech front end: call recordings in, timed [`Turn`](huashu_engine::Turn)s out.
//!
//! The pipeline: [`decode`] (WAV PCM 16/24/32, float, μ-law, A-law; FLAC, MP3, Ogg Vorbis through symphonia)
//! → [`resample`] each channel to 16 kHz → assign channels to roles ([`ChannelMap`]: a stereo call recording
//! has one party per channel) → cut utterances with an energy [`vad`] → recognise them (whisper-rs, behind
//! the `whisper` feature: [`Whisper`]; a channel's neighbouring utterances in one pass, [`pack`]) → merge
//! into [`AudioTurn`]s ordered by time, each with its recogniser confidence.
//!
//! Everything except the recogniser is pure Rust, so this crate builds and tests without cmake; the
//! recogniser is a trait ([`Recognize`]) so the pipeline is tested with a fake one.

pub mod bench;
mod call;
mod decode;
mod error;
pub mod live;
mod loops;
pub mod model;
pub mod pack;
mod resample;
mod segment;
pub mod vad;
#[cfg(feature = "whisper")]
mod whisper;

pub use call::{
    AudioTurn, CallOptions, ChannelMap, Recognize, StageTimes, clean_transcript, simplify,
    transcribe_audio, transcribe_file,
};
pub use decode::{Audio, MAX_SECONDS, decode, decode_bytes, decode_file};
pub use error::AudioError;
pub use loops::collapse_loops;
pub use resample::{TARGET_RATE, resample, to_16k};
pub use segment::Segment;
#[cfg(feature = "whisper")]
pub use whisper::{
    AUDIO_CTX_FLOOR, FLASH_ATTN, Language, MAX_TOKENS_PER_S, TIMESTAMPS, Whisper, WhisperOptions,
};
