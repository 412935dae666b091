use huashu_rules::{Rule, RulesetError};
use thiserror::Error;

/// Why a ruleset could not be compiled. Names the rule, its file and line.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum EngineError {
    #[error(transparent)]
    Ruleset(#[from] RulesetError),

    #[error(
        "{file}:{line}: rule {rule}: field `match.regex`: {pattern:?} does not compile: {message}"
    )]
    Regex {
        file: String,
        line: usize,
        rule: String,
        pattern: String,
        message: String,
    },

    #[error("{file}:{line}: rule {rule}: {word:?} normalises to nothing and can never match")]
    Unreachable {
        file: String,
        line: usize,
        rule: String,
        word: String,
    },

    #[error("{file}: field `{field}`: {message}")]
    Invalid {
        file: String,
        field: String,
        message: String,
    },

    #[error("cannot build the matcher: {0}")]
    Automaton(String),
}

impl EngineError {
    pub(crate) fn regex(rule: &Rule, pattern: &str, e: &regex::Error) -> EngineError {
        EngineError::Regex {
            file: rule.source.file.clone(),
            line: rule.source.line_of(pattern).unwrap_or(1),
            rule: rule.id.clone(),
            pattern: pattern.to_string(),
            message: e
                .to_string()
                .lines()
                .last()
                .unwrap_or_default()
                .trim()
                .to_string(),
        }
    }

    pub(crate) fn unreachable(rule: &Rule, word: &str) -> EngineError {
        EngineError::Unreachable {
            file: rule.source.file.clone(),
            line: rule.source.line_of(word).unwrap_or(1),
            rule: rule.id.clone(),
            word: word.to_string(),
        }
    }
}
