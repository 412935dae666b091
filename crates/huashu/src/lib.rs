//! Huashu (话术) checks what a customer-service agent says or types against the standards of a training
//! manual: no shirking or cold phrases, no illegal promises, no personal data read out, and it suggests the
//! compliant wording. Rulesets are data (TOML, one rule per file); the default `zh-CN` ruleset is embedded.
//!
//! # A chat platform checking a message before it is sent
//!
//! ```
//! use huashu::{Engine, Role};
//!
//! let engine = Engine::default_ruleset()?; // build once, share behind an Arc
//! let draft = "這不是我的問題，你自己看說明書";
//! let findings = engine.scan(Role::Agent, draft);
//! for f in &findings {
//!     // Character offsets into the original (traditional) text, for highlighting.
//!     let marked: String = draft.chars().skip(f.char_start).take(f.char_end - f.char_start).collect();
//!     assert_eq!(marked, f.matched);
//!     println!("{} [{}] {}", f.rule_id, marked, f.message);
//! }
//! assert_eq!(findings.len(), 2);
//! // Offer the compliant rewrite instead of sending the draft as it is.
//! let rewrite = huashu::apply_suggestions(draft, &findings);
//! assert!(engine.scan(Role::Agent, &rewrite).is_empty());
//! # Ok::<(), huashu::EngineError>(())
//! ```
//!
//! A customer may say anything: agent rules never fire on customer turns.
//!
//! ```
//! # use huashu::{Engine, Role};
//! let engine = Engine::default_ruleset()?;
//! assert!(engine.scan(Role::Customer, "这不是我的问题").is_empty());
//! # Ok::<(), huashu::EngineError>(())
//! ```

/// The speech front end (feature `audio`): recordings in, timed turns out.
#[cfg(feature = "audio")]
pub use huashu_audio as audio;
pub use huashu_rules as rules;
pub use huashu_text as text;

// What users embed: the engine, its input and output types, the conversation scorer. Listed one by one (not
// `huashu_engine::*`) so that tooling modules of the engine crate do not become API by accident.
pub use huashu_engine::conversation;
pub use huashu_engine::{
    Applicability, Category, CheckId, CheckResult, Cue, DroppedBy, Engine, EngineError, Evidence,
    Finding, LastExchange, LearnedModel, Matcher, NearMiss, Report, Role, RoleScope, Rule, Ruleset,
    RulesetError, Session, Severity, Span, Status, Structure, Suggestion, Tolerance, Turn,
    TurnUpdate, Withheld, apply_mask, apply_suggestions, is_valid_card_number, is_valid_id_card,
};

/// Ruleset tests: validate a ruleset and run every rule's examples (and the regex-literal lint), as
/// `huashu test-ruleset` does. `ruleset_tests::run(&engine)` returns an `Outcome` with its `problems`.
pub mod ruleset_tests {
    pub use huashu_engine::selftest::{MIN_EXAMPLES, Outcome, Problem, run};
}

/// The old name of [`ruleset_tests`], kept so that code written against it still builds.
#[doc(hidden)]
pub use huashu_engine::selftest;

pub mod drill;
pub mod eval;
pub mod eval_chats;
pub mod learned;
pub mod wire;
