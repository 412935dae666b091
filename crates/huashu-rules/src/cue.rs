//! The scorecard's cue vocabulary, defined once: the names a ruleset's `[scoring.cues.<name>]` tables, a
//! check's needs and a drill step's `require`/`order` use. Phrases come from the ruleset; the names are fixed.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One named cue list of `[scoring.cues]`. The TOML/JSON name is the snake_case form ([`Cue::name`]).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Cue {
    /// The customer complains about the problem (坏了, 怎么回事).
    Complaint,
    /// The customer reports a problem in words that are also said calmly (没收到, 一直没反应, 质量问题): a
    /// complaint only when the customer presses it (see `conversation/complaints.rs`).
    Report,
    /// The customer insists (你们就是厂家的售后啊！, 到底, 赶紧): it presses a reported problem, alone it is no
    /// complaint.
    Insist,
    /// The customer complains only about the agent's manner (你什么态度): an apology answers it.
    ComplaintManner,
    Empathy,
    Solution,
    Commitment,
    Greeting,
    NeedConfirmation,
    Identity,
    Closing,
    Polite,
    /// The agent asks the customer to wait (请稍等).
    Hold,
    /// The agent goes to look something up: a hold is due first.
    HoldNeeded,
    /// The agent hands the case on (转交, 升级).
    Escalation,
    /// A time is given (24小时内).
    Time,
    /// The problem was fixed in the conversation.
    Resolved,
    /// The customer asks something.
    Question,
    /// Words that carry no answer (嗯, 好的).
    Filler,
    /// The customer asks when (什么时候, 几天, 多久): the answer needs a time or a date.
    AskWhen,
    /// The customer asks how (怎么操作, 如何申请): the answer needs steps.
    AskHow,
    /// The customer asks a yes/no question (能不能, 可以吗): the answer needs a yes or a no.
    AskYesNo,
    /// The customer asks the agent to act (帮我改一下吧, 麻烦帮忙加快): the agent doing it, or agreeing to (好的),
    /// answers it.
    AskAction,
    /// Steps in an agent's answer (点击, 进入, 然后).
    Steps,
    /// A yes or a no in an agent's answer (可以的, 不能, 是的).
    YesNo,
    /// The agent stalls without news (催一下, 请您耐心等待, 已经帮您催促).
    Stall,
    /// The customer did not follow the agent's reply (什么意思, 没看懂, a message that opens with “?”).
    Puzzled,
}

impl Cue {
    /// Every cue, in the order the engine lists them.
    pub const ALL: [Cue; 27] = [
        Cue::Complaint,
        Cue::Report,
        Cue::Insist,
        Cue::ComplaintManner,
        Cue::Empathy,
        Cue::Solution,
        Cue::Commitment,
        Cue::Greeting,
        Cue::NeedConfirmation,
        Cue::Identity,
        Cue::Closing,
        Cue::Polite,
        Cue::Hold,
        Cue::HoldNeeded,
        Cue::Escalation,
        Cue::Time,
        Cue::Resolved,
        Cue::Question,
        Cue::Filler,
        Cue::AskWhen,
        Cue::AskHow,
        Cue::AskYesNo,
        Cue::AskAction,
        Cue::Steps,
        Cue::YesNo,
        Cue::Stall,
        Cue::Puzzled,
    ];

    /// The name used in `[scoring.cues.<name>]`, drills and [`crate::Ruleset`] errors.
    pub const fn name(self) -> &'static str {
        match self {
            Cue::Complaint => "complaint",
            Cue::Report => "report",
            Cue::Insist => "insist",
            Cue::ComplaintManner => "complaint_manner",
            Cue::Empathy => "empathy",
            Cue::Solution => "solution",
            Cue::Commitment => "commitment",
            Cue::Greeting => "greeting",
            Cue::NeedConfirmation => "need_confirmation",
            Cue::Identity => "identity",
            Cue::Closing => "closing",
            Cue::Polite => "polite",
            Cue::Hold => "hold",
            Cue::HoldNeeded => "hold_needed",
            Cue::Escalation => "escalation",
            Cue::Time => "time",
            Cue::Resolved => "resolved",
            Cue::Question => "question",
            Cue::Filler => "filler",
            Cue::AskWhen => "ask_when",
            Cue::AskHow => "ask_how",
            Cue::AskYesNo => "ask_yes_no",
            Cue::Steps => "steps",
            Cue::YesNo => "yes_no",
            Cue::Stall => "stall",
            Cue::AskAction => "ask_action",
            Cue::Puzzled => "puzzled",
        }
    }

    /// The cue of that name.
    pub fn from_name(name: &str) -> Option<Cue> {
        Cue::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The cues a drill step may `require`: those an agent's reply can carry (in the order errors list them).
    pub const REQUIREMENTS: [Cue; 11] = [
        Cue::Empathy,
        Cue::Solution,
        Cue::Commitment,
        Cue::Time,
        Cue::Greeting,
        Cue::NeedConfirmation,
        Cue::Identity,
        Cue::Closing,
        Cue::Polite,
        Cue::Hold,
        Cue::Escalation,
    ];
}

impl std::fmt::Display for Cue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::Cue;

    #[test]
    fn names_round_trip_and_match_serde() {
        for c in Cue::ALL {
            assert_eq!(Cue::from_name(c.name()), Some(c));
            assert_eq!(
                serde_json::to_string(&c).ok(),
                Some(format!("\"{}\"", c.name()))
            );
        }
        assert_eq!(Cue::from_name("nope"), None);
    }
}
