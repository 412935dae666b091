//! The words a drill's feedback is written in, chosen by the ruleset's `language`: a trainee practising on the
//! English ruleset reads English labels and tips, not the Chinese ones the drills were first written with.

use crate::Cue;

/// Feedback wording for one language.
#[derive(Debug)]
pub struct Words {
    labels: fn(Cue) -> Option<&'static str>,
    order: &'static str,
    disclosure: &'static str,
    say_open: &'static str,
    say_close: &'static str,
    avoid: &'static str,
    must_have: &'static str,
}

const ZH: Words = Words {
    labels: zh_label,
    order: "顺序",
    disclosure: "必须提示",
    say_open: "（可以说：“",
    say_close: "”）",
    avoid: "避免：",
    must_have: "回复里要有：",
};

const EN: Words = Words {
    labels: en_label,
    order: "order",
    disclosure: "required disclosure",
    say_open: " (say: \"",
    say_close: "\")",
    avoid: "Avoid: ",
    must_have: "Your reply needs: ",
};

impl Words {
    /// English for `en`, `en-US` …; Chinese otherwise (every bundled non-English ruleset is Chinese).
    pub fn for_language(language: &str) -> &'static Words {
        let primary = language.split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("en") {
            &EN
        } else {
            &ZH
        }
    }

    /// The trainee's word for a requirement or structure cue: a cue, `order`, or `disclosure:<id>` (the id is
    /// shown beside it). Cues a drill cannot require (the customer's, the scorer's inner folds) keep their name.
    pub fn label<'a>(&self, name: &'a str) -> &'a str {
        match Cue::from_name(name) {
            Some(cue) => (self.labels)(cue).unwrap_or(name),
            None if name == "order" => self.order,
            None if name.starts_with("disclosure:") => self.disclosure,
            None => name,
        }
    }

    /// A rule's tip with its first compliant phrasing, or "avoid <rule name>" when it has no tip.
    pub fn rule_tip(&self, tip: Option<&str>, name: &str, say: Option<&str>) -> String {
        let say = say
            .map(|s| format!("{}{s}{}", self.say_open, self.say_close))
            .unwrap_or_default();
        match tip {
            Some(t) => format!("{t}{say}"),
            None => format!("{}{name}{say}", self.avoid),
        }
    }

    /// The plain tip for a requirement nobody wrote a tip for.
    pub fn must_have(&self, weakness: &str) -> String {
        format!("{}{}", self.must_have, self.label(weakness))
    }
}

fn zh_label(cue: Cue) -> Option<&'static str> {
    label_pair(cue).map(|(zh, _)| zh)
}

fn en_label(cue: Cue) -> Option<&'static str> {
    label_pair(cue).map(|(_, en)| en)
}

/// (Chinese, English) for the cues a trainee is asked for. Exhaustive over `Cue`, so a new cue is labelled in
/// every language or listed as one a drill cannot require.
fn label_pair(cue: Cue) -> Option<(&'static str, &'static str)> {
    Some(match cue {
        Cue::Empathy => ("共情", "empathy"),
        Cue::Solution => ("方案", "solution"),
        Cue::Commitment => ("承诺", "commitment"),
        Cue::Time => ("时间", "a time"),
        Cue::Identity => ("身份核验", "identity check"),
        Cue::Polite => ("礼貌", "courtesy"),
        Cue::Hold => ("请稍等", "hold notice"),
        Cue::NeedConfirmation => ("复述确认", "need confirmed"),
        Cue::Escalation => ("升级", "escalation"),
        Cue::Greeting => ("问候", "greeting"),
        Cue::Closing => ("结束语", "closing"),
        Cue::Complaint
        | Cue::ComplaintManner
        | Cue::HoldNeeded
        | Cue::Resolved
        | Cue::Question
        | Cue::Filler
        | Cue::AskWhen
        | Cue::AskHow
        | Cue::AskYesNo
        | Cue::AskAction
        | Cue::Steps
        | Cue::YesNo
        | Cue::Stall
        | Cue::Puzzled
        | Cue::Report
        | Cue::Insist => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::Words;

    #[test]
    fn language_picks_the_words() {
        let en = Words::for_language("en-US");
        assert_eq!(en.label("commitment"), "commitment");
        assert_eq!(en.label("order"), "order");
        assert_eq!(en.label("disclosure:risk"), "required disclosure");
        assert_eq!(en.label("stall"), "stall");
        assert_eq!(
            en.rule_tip(None, "Shirking", Some("Let me check that for you")),
            "Avoid: Shirking (say: \"Let me check that for you\")"
        );
        assert_eq!(en.must_have("time"), "Your reply needs: a time");
        let zh = Words::for_language("zh-CN");
        assert_eq!(zh.label("commitment"), "承诺");
        assert_eq!(
            zh.rule_tip(Some("先查再答。"), "推诿", Some("我帮您查询一下")),
            "先查再答。（可以说：“我帮您查询一下”）"
        );
        assert_eq!(zh.must_have("time"), "回复里要有：时间");
        assert_eq!(Words::for_language("").label("empathy"), "共情");
    }
}
