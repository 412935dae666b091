use std::path::PathBuf;

/// Everything that can go wrong between a recording and its turns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AudioError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the audio is empty (zero bytes)")]
    Empty,
    #[error("not a recognised audio file ({0})")]
    Format(String),
    #[error("unsupported audio: {0}")]
    Unsupported(String),
    #[error("the audio is truncated or corrupt after {decoded_ms} ms: {detail}")]
    Truncated { decoded_ms: u64, detail: String },
    #[error("the audio contains no samples")]
    NoSamples,
    #[error("the audio is longer than the limit of {limit_s} s")]
    TooLong { limit_s: u64 },
    #[error("the recording has {got} channel(s), the channel map names {want}")]
    Channels { got: usize, want: usize },
    #[error(
        "invalid channel map {0:?}: expected roles separated by commas, e.g. \"agent,customer\""
    )]
    ChannelMap(String),
    #[error("resampling failed: {0}")]
    Resample(String),
    #[error("no Whisper model: {0}")]
    NoModel(String),
    #[error("speech recognition failed: {0}")]
    Recognition(String),
}
