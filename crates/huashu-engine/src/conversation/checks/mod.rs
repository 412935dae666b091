//! The scorecard checks, one file each: its per-conversation state, its fold over turns ([`Check::observe`]),
//! its judgement ([`Check::judge`]) and its coaching tip, with its tests. A check is registered by one line in
//! [`checks!`] below, which generates [`CheckId`] and the exhaustive `match` that judges every check.
//!
//! Folds several checks share live next to the session: the customer's questions (`../questions.rs`, read by
//! `responsiveness`), complaint episodes (`../complaints.rs`, read by the five structure checks) and the
//! previous turn's timing ([`TimingView`], read by the timing checks).

use huashu_rules::{CheckSpec, Cue, Role, Scoring};
use serde::{Deserialize, Serialize};

use super::CueIndex;
use super::complaints::Episodes;
use super::cues::CueHit;
use super::questions::Questions;
use super::report::Evidence;

/// One check: what it remembers of a conversation, and how it judges it.
pub(crate) trait Check: Default + std::fmt::Debug {
    /// Cue lists the check needs; a ruleset that scores the check without one of them is refused.
    const NEEDS: &'static [Cue];

    /// Folds one final turn into the check's state (bounded: counters and first evidence).
    fn observe(&mut self, turn: &TurnView<'_>) {
        let _ = turn;
    }

    /// The verdict on the conversation so far; `None` when the check does not apply.
    fn judge(&self, ctx: &JudgeCtx<'_>) -> Option<Judged>;

    /// The coaching tip shown when the check failed: the ruleset's, if it has one.
    fn tip(&self, spec: &CheckSpec, judged: &Judged) -> Option<String> {
        (!judged.passed && !spec.tip.is_empty()).then(|| spec.tip.clone())
    }
}

/// Registers the checks: `Variant = "ruleset name" => module::Type`, in scorecard order.
macro_rules! checks {
    ($($variant:ident = $name:literal => $module:ident :: $ty:ident,)+) => {
        $(pub(crate) mod $module;)+

        /// A scorecard check the engine knows how to judge; its points come from `[scoring.checks.<name>]`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[non_exhaustive]
        pub enum CheckId {
            $(#[serde(rename = $name)] $variant,)+
        }

        impl CheckId {
            /// Every check, in scorecard order.
            pub const ALL: &'static [CheckId] = &[$(CheckId::$variant,)+];

            /// The name in `[scoring.checks.<name>]` and in reports.
            pub const fn name(self) -> &'static str {
                match self {
                    $(CheckId::$variant => $name,)+
                }
            }

            /// The cue lists the check needs.
            pub fn needs(self) -> &'static [Cue] {
                match self {
                    $(CheckId::$variant => <$module::$ty as Check>::NEEDS,)+
                }
            }
        }

        /// Every check's state for one conversation.
        #[derive(Debug, Default)]
        pub(crate) struct Checks {
            $($module: $module::$ty,)+
        }

        impl Checks {
            pub(crate) fn observe(&mut self, turn: &TurnView<'_>) {
                $(self.$module.observe(turn);)+
            }

            /// Judges check `id` and gives its tip; `None` when it does not apply.
            pub(crate) fn judge(
                &self,
                id: CheckId,
                ctx: &JudgeCtx<'_>,
                spec: &CheckSpec,
            ) -> Option<(Judged, Option<String>)> {
                match id {
                    $(CheckId::$variant => {
                        let j = self.$module.judge(ctx)?;
                        let tip = self.$module.tip(spec, &j);
                        Some((j, tip))
                    })+
                }
            }
        }
    };
}

checks! {
    Greeting = "greeting" => greeting::Greeting,
    NeedConfirmation = "need_confirmation" => need_confirmation::NeedConfirmation,
    Identity = "identity" => identity::Identity,
    Responsiveness = "responsiveness" => responsiveness::Responsiveness,
    Empathy = "empathy" => empathy::Empathy,
    Solution = "solution" => solution::Solution,
    Commitment = "commitment" => commitment::Commitment,
    InOrder = "in_order" => in_order::InOrder,
    Prompt = "prompt" => prompt::Prompt,
    Closing = "closing" => closing::Closing,
    EarlyClosing = "early_closing" => early_closing::EarlyClosing,
    Placeholder = "placeholder" => placeholder::Placeholder,
    Clarity = "clarity" => clarity::Clarity,
    Courtesy = "courtesy" => courtesy::Courtesy,
    Hold = "hold" => hold::Hold,
    EscalationTime = "escalation_time" => escalation_time::EscalationTime,
    FirstResponse = "first_response" => first_response::FirstResponse,
    Silence = "silence" => silence::Silence,
    TalkOver = "talk_over" => talk_over::TalkOver,
    SpeechRate = "speech_rate" => speech_rate::SpeechRate,
}

impl CheckId {
    /// The check of that name.
    pub fn from_name(name: &str) -> Option<CheckId> {
        CheckId::ALL.iter().copied().find(|c| c.name() == name)
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One final turn as the checks see it.
#[derive(Debug)]
pub(crate) struct TurnView<'a> {
    pub index: usize,
    pub role: Role,
    /// The original text.
    pub text: &'a str,
    /// Cues found in the turn, in order of position.
    pub cues: &'a [CueHit],
    pub(crate) cue_index: &'a CueIndex,
    /// Agent turns before this one.
    pub agent_turns_before: usize,
    /// Set when the turn has both times.
    pub timing: Option<TimingView>,
    pub scoring: &'a Scoring,
    /// After an agent turn: the customer's question it left waiting (its turn), if any.
    pub open_question: Option<usize>,
    /// After an agent turn: the turn of a complaint that has had neither empathy nor a solution yet.
    pub open_complaint: Option<usize>,
}

impl TurnView<'_> {
    /// The first hit of `cue` in this turn.
    pub fn cue(&self, cue: Cue) -> Option<&CueHit> {
        let i = self.cue_index.get(cue)?;
        self.cues.iter().find(|h| h.cue == i)
    }

    /// Evidence quoting a cue's words at this turn.
    pub fn quote(&self, h: &CueHit) -> Evidence {
        Evidence::new(self.index, format!("“{}”", h.matched))
    }

    pub fn is_agent(&self) -> bool {
        self.role == Role::Agent
    }
}

/// A timed turn and what came before it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimingView {
    pub start_ms: u64,
    pub end_ms: u64,
    /// The last timed turn before this one.
    pub prev: Option<PrevTurn>,
    /// The customer's first timed turn still waiting for the agent's first reply: (its end, its index).
    pub awaiting_first_response: Option<(u64, usize)>,
}

/// The last timed turn: who spoke, when the talk so far ended, whether the agent asked the customer to hold.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PrevTurn {
    pub role: Role,
    pub end_ms: u64,
    pub hold: bool,
}

/// What the checks may read when they judge: conversation-wide counts and the shared folds.
#[derive(Debug)]
pub(crate) struct JudgeCtx<'a> {
    pub scoring: &'a Scoring,
    /// The ruleset's language (`zh-CN`, `en`): report wording follows it.
    pub language: &'a str,
    pub agent_turns: usize,
    pub customer_turns: usize,
    pub questions: &'a Questions,
    /// Complaint episodes, the open one included.
    pub episodes: &'a Episodes,
}

/// Outcome of one check before points.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Judged {
    pub passed: bool,
    /// Share of the points earned (0.0–1.0).
    pub share: f64,
    pub detail: String,
    pub turn: Option<usize>,
}

pub(crate) fn pass(ev: &Evidence) -> Option<Judged> {
    Some(Judged {
        passed: true,
        share: 1.0,
        detail: ev.text.clone(),
        turn: Some(ev.turn),
    })
}

pub(crate) fn fail(detail: impl Into<String>, turn: Option<usize>) -> Option<Judged> {
    Some(Judged {
        passed: false,
        share: 0.0,
        detail: detail.into(),
        turn,
    })
}

/// Whether report wording should be Chinese: the ruleset's language is Chinese.
pub(crate) fn chinese(language: &str) -> bool {
    language.starts_with("zh")
}

pub(crate) fn share(k: usize, n: usize) -> f64 {
    if n == 0 { 0.0 } else { k as f64 / n as f64 }
}

/// A timing check over what it could measure: passes with the count, or fails with the first breach.
pub(crate) fn timed(checked: usize, failure: &Option<Evidence>, ok: &str) -> Option<Judged> {
    if checked == 0 {
        return None;
    }
    match failure {
        None => Some(Judged {
            passed: true,
            share: 1.0,
            detail: format!("{ok} ({checked} checked)"),
            turn: None,
        }),
        Some(ev) => fail(ev.text.clone(), Some(ev.turn)),
    }
}

#[cfg(test)]
pub(crate) mod test_support;

#[cfg(test)]
mod tests {
    use super::CheckId;

    #[test]
    fn names_round_trip_and_match_serde() {
        for &c in CheckId::ALL {
            assert_eq!(CheckId::from_name(c.name()), Some(c));
            assert_eq!(
                serde_json::to_string(&c).ok(),
                Some(format!("\"{}\"", c.name()))
            );
        }
    }
}
