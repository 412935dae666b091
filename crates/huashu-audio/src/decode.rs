//! Decoding any supported recording into per-channel f32 samples.

use std::fs::File;
use std::io::Cursor;
use std::path::Path;

use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;

use crate::AudioError;

/// Longest recording accepted (4 hours): bounds memory.
pub const MAX_SECONDS: u64 = 4 * 3600;

/// Decoded audio: one vector of samples in [-1, 1] per channel, at `rate` Hz.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    pub rate: u32,
    pub channels: Vec<Vec<f32>>,
}

impl Audio {
    /// Frames (samples per channel).
    pub fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }

    pub fn duration_ms(&self) -> u64 {
        if self.rate == 0 {
            return 0;
        }
        self.frames() as u64 * 1000 / u64::from(self.rate)
    }
}

/// Decodes the file at `path`; the extension is only a hint, the content decides.
///
/// # Errors
/// [`AudioError::Io`] when the file cannot be read, [`AudioError::Empty`] for a zero-length file, and the
/// errors of [`decode`].
pub fn decode_file(path: &Path) -> Result<Audio, AudioError> {
    let io = |source| AudioError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    if file.metadata().map_err(io)?.len() == 0 {
        return Err(AudioError::Empty);
    }
    let ext = path.extension().and_then(|e| e.to_str());
    decode(Box::new(file), ext)
}

/// Decodes an in-memory recording.
///
/// # Errors
/// As [`decode`].
pub fn decode_bytes(bytes: Vec<u8>, ext: Option<&str>) -> Result<Audio, AudioError> {
    if bytes.is_empty() {
        return Err(AudioError::Empty);
    }
    decode(Box::new(Cursor::new(bytes)), ext)
}

/// Decodes a media source (the first audio track).
///
/// # Errors
/// [`AudioError::Format`] when the content is not a recognised container, [`AudioError::Unsupported`] for
/// an unsupported codec, [`AudioError::Truncated`] when the stream ends inside a packet or is corrupt,
/// [`AudioError::NoSamples`] when nothing decodes, [`AudioError::TooLong`] past [`MAX_SECONDS`].
pub fn decode(source: Box<dyn MediaSource>, ext: Option<&str>) -> Result<Audio, AudioError> {
    let mss = MediaSourceStream::new(source, Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = ext {
        hint.with_extension(ext);
    }
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| AudioError::Format(e.to_string()))?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| AudioError::Format("no audio track".into()))?;
    let track_id = track.id;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| AudioError::Unsupported("the track has no audio codec parameters".into()))?
        .clone();
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| AudioError::Unsupported(e.to_string()))?;

    let mut rate = params.sample_rate.unwrap_or(0);
    let mut channels: Vec<Vec<f32>> = Vec::new();
    let mut interleaved: Vec<f32> = Vec::new();
    let mut bad_packets = 0usize;
    let decoded_ms = |channels: &Vec<Vec<f32>>, rate: u32| {
        channels
            .first()
            .map_or(0, |c| c.len() as u64 * 1000 / u64::from(rate.max(1)))
    };
    loop {
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(AudioError::Truncated {
                    decoded_ms: decoded_ms(&channels, rate),
                    detail: "the stream ends inside a packet".into(),
                });
            }
            Err(SymError::ResetRequired) => break,
            Err(e) => {
                return Err(AudioError::Truncated {
                    decoded_ms: decoded_ms(&channels, rate),
                    detail: e.to_string(),
                });
            }
        };
        if packet.track_id != track_id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(buf) => {
                let spec = buf.spec();
                let n = spec.channels().count();
                if n == 0 {
                    continue;
                }
                if rate == 0 {
                    rate = spec.rate();
                }
                if channels.is_empty() {
                    channels = vec![Vec::new(); n];
                } else if channels.len() != n {
                    return Err(AudioError::Unsupported(
                        "the channel count changes inside the stream".into(),
                    ));
                }
                interleaved.clear();
                buf.copy_to_vec_interleaved(&mut interleaved);
                for frame in interleaved.chunks_exact(n) {
                    for (c, s) in channels.iter_mut().zip(frame) {
                        c.push(if s.is_finite() {
                            s.clamp(-1.0, 1.0)
                        } else {
                            0.0
                        });
                    }
                }
                let frames = channels.first().map_or(0, Vec::len) as u64;
                if rate > 0 && frames / u64::from(rate) > MAX_SECONDS {
                    return Err(AudioError::TooLong {
                        limit_s: MAX_SECONDS,
                    });
                }
            }
            Err(SymError::DecodeError(e)) => {
                // A few corrupt packets in a long lossy stream are skipped; many mean a broken file.
                bad_packets += 1;
                if bad_packets > 16 {
                    return Err(AudioError::Truncated {
                        decoded_ms: decoded_ms(&channels, rate),
                        detail: e.to_string(),
                    });
                }
            }
            Err(e) => {
                return Err(AudioError::Truncated {
                    decoded_ms: decoded_ms(&channels, rate),
                    detail: e.to_string(),
                });
            }
        }
    }
    if rate == 0 {
        return Err(AudioError::Unsupported("unknown sample rate".into()));
    }
    if channels.first().is_none_or(Vec::is_empty) {
        return Err(AudioError::NoSamples);
    }
    Ok(Audio { rate, channels })
}
