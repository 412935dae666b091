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
//! let findings = engine.check(Role::Agent, draft);
//! for f in &findings {
//!     // Character offsets into the original (traditional) text, for highlighting.
//!     let marked: String = draft.chars().skip(f.char_start).take(f.char_end - f.char_start).collect();
//!     assert_eq!(marked, f.matched);
//!     println!("{} [{}] {}", f.rule_id, marked, f.message);
//! }
//! assert_eq!(findings.len(), 2);
//! // Offer the compliant rewrite instead of sending the draft as it is.
//! let rewrite = huashu::apply_suggestions(draft, &findings);
//! assert!(engine.check(Role::Agent, &rewrite).is_empty());
//! # Ok::<(), huashu::EngineError>(())
//! ```
//!
//! A customer may say anything: agent rules never fire on customer turns.
//!
//! ```
//! # use huashu::{Engine, Role};
//! let engine = Engine::default_ruleset()?;
//! assert!(engine.check(Role::Customer, "这不是我的问题").is_empty());
//! # Ok::<(), huashu::EngineError>(())
//! ```

/// The speech front end (feature `audio`): recordings in, timed turns out.
#[cfg(feature = "audio")]
pub use huashu_audio as audio;
pub use huashu_engine::*;
pub use huashu_rules as rules;
pub use huashu_text as text;

pub mod drill;
pub mod eval;
pub mod eval_chats;
pub mod wire;
