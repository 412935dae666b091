use thiserror::Error;

/// Why a ruleset could not be loaded. Every variant names the file (and line where there is one).
#[derive(Debug, Error, Clone, PartialEq)]
pub enum RulesetError {
    #[error("{path}: {message}")]
    Io { path: String, message: String },

    #[error("{file}:{line}:{column}: {message}")]
    Parse {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },

    #[error("{file}:{line}: field `{field}`: {message}")]
    Invalid {
        file: String,
        line: usize,
        field: String,
        message: String,
    },

    #[error("rule id `{id}` is defined twice: {first} and {second}")]
    DuplicateId {
        id: String,
        first: String,
        second: String,
    },

    #[error("no rule `{id}` to switch off in {ruleset}")]
    UnknownRule { id: String, ruleset: String },

    #[error("no ruleset named `{name}` (bundled: {known}; or give a directory)")]
    NotFound { name: String, known: String },
}

impl RulesetError {
    pub(crate) fn from_toml(file: &str, text: &str, e: &toml::de::Error) -> RulesetError {
        let (line, column) = e.span().map_or((1, 1), |span| line_col(text, span.start));
        RulesetError::Parse {
            file: file.to_string(),
            line,
            column,
            message: e.message().trim().to_string(),
        }
    }
}

fn line_col(text: &str, byte: usize) -> (usize, usize) {
    let byte = byte.min(text.len());
    let before = text.get(..byte).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// 1-based line where `key` is first assigned, or 1.
pub(crate) fn line_of(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            let t = l.trim_start();
            t.starts_with(key) && t[key.len()..].trim_start().starts_with('=')
        })
        .map_or(1, |i| i + 1)
}
