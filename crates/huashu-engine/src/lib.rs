//! The Huashu matcher: a ruleset compiled into one phrase automaton and one regex set, context checks on
//! the hits, findings with exact spans into the original text, and compliant rewrites.

mod anchors;
mod asr;
mod context;
pub mod conversation;
mod engine;
mod error;
mod exchange;
mod finding;
pub mod learned;
mod lint;
mod matcher;
mod scan;
pub mod selftest;
mod session;
mod validate;

pub use asr::Tolerance;
pub use conversation::{CheckId, CheckResult, Evidence, Report, Structure};
pub use engine::Engine;
pub use error::EngineError;
pub use exchange::LastExchange;
pub use finding::{DroppedBy, Finding, NearMiss, Suggestion, Turn, apply_suggestions};
pub use huashu_rules::{
    Applicability, Category, Cue, LearnedModel, Role, RoleScope, Rule, Ruleset, RulesetError,
    Severity, Status,
};
pub use huashu_text::Span;
pub use matcher::{Matcher, Withheld, apply_mask};
pub use session::{Session, TurnUpdate};
pub use validate::{id_card as is_valid_id_card, luhn as is_valid_card_number};
