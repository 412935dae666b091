//! Where the Whisper model comes from: `--model PATH` or `--model NAME` (`base`, `base-q8_0`, `tiny.en`:
//! `ggml-NAME.bin` in the cache), `$HUASHU_WHISPER_MODEL`, or the cache that `scripts/fetch-model` fills
//! (`$HUASHU_MODEL_DIR`, else `$XDG_CACHE_HOME/huashu/models`, else `~/.cache/huashu/models`).

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

/// `p` as a model name (`base-q8_0`): one path component, no extension `.bin`.
fn model_name(p: &Path) -> Option<&str> {
    let s = p.to_str()?;
    let plain = !s.is_empty()
        && !s.contains(std::path::MAIN_SEPARATOR)
        && !s.contains('/')
        && !s.ends_with(".bin");
    plain.then_some(s)
}

/// The cached model called `name` (`ggml-NAME.bin` in `dir`).
///
/// # Errors
/// [`AudioError::NoModel`] naming the file looked for and the command that fetches it.
pub fn named(dir: Option<&Path>, name: &str) -> Result<PathBuf, AudioError> {
    let Some(dir) = dir else {
        return Err(AudioError::NoModel(format!(
            "model {name:?}: no model cache (set $HUASHU_MODEL_DIR or $HOME)"
        )));
    };
    let path = dir.join(format!("ggml-{name}.bin"));
    if path.is_file() {
        return Ok(path);
    }
    let (model, quant) = match name.split_once('-') {
        Some((m, q)) => (m, format!(" --quantize {q}")),
        None => (name, String::new()),
    };
    Err(AudioError::NoModel(format!(
        "model {name:?}: {} is missing; run scripts/fetch-model {model}{quant}",
        path.display()
    )))
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
        } else if let Some(name) = model_name(&p) {
            named(cache_dir().as_deref(), name)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_a_cached_file_and_a_missing_one_says_how_to_fetch_it() {
        let dir = std::env::temp_dir().join(format!("huashu-model-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ggml-base-q8_0.bin"), b"x").unwrap();
        assert_eq!(
            named(Some(&dir), "base-q8_0").unwrap(),
            dir.join("ggml-base-q8_0.bin")
        );
        let err = named(Some(&dir), "small-q8_0").unwrap_err().to_string();
        assert!(err.contains("ggml-small-q8_0.bin is missing"), "{err}");
        assert!(
            err.contains("scripts/fetch-model small --quantize q8_0"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(model_name(Path::new("base")), Some("base"));
        assert_eq!(model_name(Path::new("models/base")), None);
        assert_eq!(model_name(Path::new("ggml-base.bin")), None);
    }
}
