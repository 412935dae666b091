//! Where the Whisper model comes from: `--model PATH` or `--model NAME` (`base-q8_0`, the default; `base`, f16;
//! `tiny.en`: `ggml-NAME.bin` in the cache), `$HUASHU_WHISPER_MODEL`, or the cache that `scripts/fetch-model` fills
//! (`$HUASHU_MODEL_DIR`, else `$XDG_CACHE_HOME/huashu/models`, else `~/.cache/huashu/models`).

use std::path::{Path, PathBuf};

use crate::AudioError;

/// Environment variable naming a ggml Whisper model file.
pub const MODEL_ENV: &str = "HUASHU_WHISPER_MODEL";
/// File name of the default model in the cache: multilingual base with its matrix weights in ggml's Q8_0
/// (`scripts/fetch-model base`). It hears the real clips exactly as f16 does for less CPU and a
/// faster wall clock at two threads (benches/RESULTS.md, "Speech, session 6"); `--model base` is the f16
/// file (`scripts/fetch-model base --quantize f16`).
pub const DEFAULT_MODEL: &str = "ggml-base-q8_0.bin";

/// File name of whisper.cpp's Silero VAD model in the cache (`scripts/fetch-model silero`: the `silero-vad`
/// wheel from PyPI converted by `scripts/silero_to_ggml.py`, byte for byte whisper.cpp's own v6.2.0 file).
/// Recordings are cut with it whenever it is cached: it does not take noise, music on hold or a tone for
/// speech, which the energy VAD does and Whisper then "hears" (benches/RESULTS.md, "Speech, session 12").
pub const SILERO_VAD: &str = "ggml-silero-v6.2.0.bin";

/// The cached Silero VAD model ([`SILERO_VAD`]), if `scripts/fetch-model silero` has run.
pub fn cached_silero_vad() -> Option<PathBuf> {
    cache_dir()
        .map(|d| d.join(SILERO_VAD))
        .filter(|p| p.is_file())
}

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
    Err(AudioError::NoModel(format!(
        "model {name:?}: {} is missing; run {}",
        path.display(),
        fetch_command(name)
    )))
}

/// Models whose plain name (`base`) is the f16 file although `scripts/fetch-model NAME` gives Q8_0.
const QUANTISED_BY_DEFAULT: &[&str] = &["base"];

/// The `scripts/fetch-model` command that caches `ggml-NAME.bin`.
fn fetch_command(name: &str) -> String {
    match name.split_once('-') {
        Some((m, q)) => format!("scripts/fetch-model {m} --quantize {q}"),
        None if QUANTISED_BY_DEFAULT.contains(&name) => {
            format!("scripts/fetch-model {name} --quantize f16")
        }
        None => format!("scripts/fetch-model {name}"),
    }
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
    cached_default(cache_dir().as_deref())
}

/// [`DEFAULT_MODEL`] in the cache `dir`.
fn cached_default(dir: Option<&Path>) -> Result<PathBuf, AudioError> {
    let cached = dir.map(|d| d.join(DEFAULT_MODEL));
    match cached {
        Some(p) if p.is_file() => Ok(p),
        other => {
            // A cache from before Q8_0 became the default holds only the f16 file: say how to use it.
            let f16 = dir
                .map(|d| d.join("ggml-base.bin"))
                .filter(|p| p.is_file())
                .map_or_else(String::new, |p| {
                    format!(" (or --model base for the f16 model {})", p.display())
                });
            Err(AudioError::NoModel(format!(
                "none given (--model PATH or ${MODEL_ENV}) and {} is missing; run scripts/fetch-model{f16}",
                other.map_or_else(|| "the cache".into(), |p| p.display().to_string())
            )))
        }
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
        // `base` is the f16 file, which fetch-model gives only when asked (its default is Q8_0).
        let err = named(Some(&dir), "base").unwrap_err().to_string();
        assert!(
            err.ends_with("run scripts/fetch-model base --quantize f16"),
            "{err}"
        );
        let err = named(Some(&dir), "tiny.en").unwrap_err().to_string();
        assert!(err.ends_with("run scripts/fetch-model tiny.en"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(model_name(Path::new("base")), Some("base"));
        assert_eq!(model_name(Path::new("models/base")), None);
        assert_eq!(model_name(Path::new("ggml-base.bin")), None);
    }

    #[test]
    fn the_default_is_base_q8_0_and_an_old_f16_cache_is_pointed_at() {
        let dir = std::env::temp_dir().join(format!("huashu-default-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let err = cached_default(Some(&dir)).unwrap_err().to_string();
        assert!(
            err.contains("ggml-base-q8_0.bin is missing; run scripts/fetch-model"),
            "{err}"
        );
        assert!(!err.contains("--model base"), "{err}");
        std::fs::write(dir.join("ggml-base.bin"), b"x").unwrap();
        let err = cached_default(Some(&dir)).unwrap_err().to_string();
        let f16 = dir.join("ggml-base.bin");
        assert!(
            err.ends_with(&format!(
                "(or --model base for the f16 model {})",
                f16.display()
            )),
            "{err}"
        );
        std::fs::write(dir.join("ggml-base-q8_0.bin"), b"x").unwrap();
        assert_eq!(
            cached_default(Some(&dir)).unwrap(),
            dir.join("ggml-base-q8_0.bin")
        );
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(
            cached_default(None)
                .unwrap_err()
                .to_string()
                .contains("the cache is missing")
        );
    }
}
