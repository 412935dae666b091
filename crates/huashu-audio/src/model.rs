//! Where the Whisper model comes from: `--model PATH`, `$HUASHU_WHISPER_MODEL`, or the cache that
//! `scripts/fetch-model` fills (`$HUASHU_MODEL_DIR`, else `$XDG_CACHE_HOME/huashu/models`, else
//! `~/.cache/huashu/models`).

use std::path::{Path, PathBuf};

use crate::AudioError;

/// Environment variable naming a ggml Whisper model file.
pub const MODEL_ENV: &str = "HUASHU_WHISPER_MODEL";
/// File name of the default model (multilingual base) in the cache.
pub const DEFAULT_MODEL: &str = "ggml-base.bin";

/// The model cache directory.
pub fn cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("HUASHU_MODEL_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("huashu/models"));
    }
    std::env::var_os("HOME")
        .filter(|d| !d.is_empty())
        .map(|h| PathBuf::from(h).join(".cache/huashu/models"))
}

/// The model to use: `explicit` if given, else `$HUASHU_WHISPER_MODEL`, else the cached default.
///
/// # Errors
/// [`AudioError::NoModel`] naming what was tried and how to fetch the default model.
pub fn resolve(explicit: Option<&Path>) -> Result<PathBuf, AudioError> {
    let candidate = explicit.map(Path::to_path_buf).or_else(|| {
        std::env::var_os(MODEL_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    if let Some(p) = candidate {
        return if p.is_file() {
            Ok(p)
        } else {
            Err(AudioError::NoModel(format!(
                "{} is not a file",
                p.display()
            )))
        };
    }
    let cached = cache_dir().map(|d| d.join(DEFAULT_MODEL));
    match cached {
        Some(p) if p.is_file() => Ok(p),
        other => Err(AudioError::NoModel(format!(
            "none given (--model PATH or ${MODEL_ENV}) and {} is missing; run scripts/fetch-model",
            other.map_or_else(|| "the cache".into(), |p| p.display().to_string())
        ))),
    }
}
