//! Complaint episodes, folded over turns: a customer complaint (or a question asked again after an answer)
//! opens one, the agent's replies until the next complaint fill it, and closing it asks each of the five
//! structure checks (`checks/{empathy,solution,commitment,in_order,prompt}.rs`) for its verdict on it.
//!
//! A complaint is judged at the conversation level, as a QA lead does: a problem reported in words that are
//! as often said calmly (`report`: 没收到, 一直没反应, 质量问题 as the reason for a return), or a question asked
//! again after a thin reply in other words, opens an episode that counts only once the customer presses it —
//! two grievances in one turn, heat (`insist`: ！, 到底), or the problem said again, a grievance or heat added
//! after the agent's reply (not in answer to the agent asking back). Grievance wording (`complaint`: 投诉,
//! 太坑了, 都四天了, 为什么还没) and a question asked again in the same words count at once.

use huashu_rules::Cue;

use super::checks::{self, CheckId, TurnView};

/// Evidence lines kept for the structure score.
const MAX_STRUCTURE_EVIDENCE: usize = 12;

/// One structure check's verdict on one complaint.
#[derive(Debug, Default)]
pub(crate) struct Verdict {
    /// None when the check does not apply to this complaint, else (passed, share).
    pub outcome: Option<(bool, f64)>,
    /// A line of the complaint's summary.
    pub part: Option<String>,
    /// What earned the check its points, or what was missing.
    pub found: Option<String>,
    pub missing: Option<String>,
}

/// What a structure check judges one complaint by.
pub(crate) type EpisodeJudge = fn(&Episode, &EpisodeCtx) -> Verdict;

/// The structure checks, in scorecard order, with how each judges a complaint and its weight in the 0–100
/// structure summary (of the ones that apply to a complaint).
pub(crate) const EPISODE_CHECKS: [(CheckId, EpisodeJudge, f64); 5] = [
    (CheckId::Empathy, checks::empathy::episode, 25.0),
    (CheckId::Solution, checks::solution::episode, 25.0),
    (CheckId::Commitment, checks::commitment::episode, 25.0),
    (CheckId::InOrder, checks::in_order::episode, 15.0),
    (CheckId::Prompt, checks::prompt::episode, 10.0),
];

/// What the structure checks may read besides the episode.
#[derive(Debug)]
pub(crate) struct EpisodeCtx {
    /// "after the complaint at turn N".
    pub after: String,
    /// Share of the empathy points earned when empathy came only after the business.
    pub late_empathy_share: f64,
}

/// A cue's first hit in the episode: (turn, byte offset in the normalised turn, the words).
pub(crate) type At = Option<(usize, usize, String)>;

pub(crate) fn turn_of(x: &At) -> Option<usize> {
    x.as_ref().map(|(t, _, _)| *t)
}

/// "turn N “words”", or nothing.
pub(crate) fn words(x: &At) -> String {
    x.as_ref()
        .map_or(String::new(), |(t, _, m)| format!("turn {t} “{m}”"))
}

/// Per-check tally over complaint episodes: how many the check applied to, passed, and the share earned.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Tally {
    pub applicable: usize,
    pub passed: usize,
    pub earned: f64,
}

/// Aggregates over complaint episodes that have been closed.
#[derive(Debug, Default, Clone)]
pub(crate) struct Episodes {
    pub count: usize,
    /// One per [`EPISODE_CHECKS`].
    pub tally: [Tally; 5],
    pub structure_sum: u32,
    /// One line per complaint, for the structure summary.
    pub evidence: Vec<String>,
    /// (check, what earned it) and (check, what was missing), bounded.
    pub found: Vec<(CheckId, String)>,
    pub missing: Vec<(CheckId, String)>,
    /// The first complaint that got no empathy, solution, fix or commitment: (its turn, its words).
    pub unaddressed: Option<(usize, String)>,
}

impl Episodes {
    pub(crate) fn tally(&self, check: CheckId) -> Option<&Tally> {
        let i = EPISODE_CHECKS.iter().position(|(c, _, _)| *c == check)?;
        self.tally.get(i)
    }
}

/// A customer complaint and the agent's replies until the next one.
#[derive(Debug, Clone)]
pub(crate) struct Episode {
    pub turn: usize,
    pub trigger: String,
    /// Only about the agent's own manner (打断我, 你什么态度): an apology answers it, no solution is due.
    pub manner: bool,
    pub replies: usize,
    pub empathy: At,
    pub solution: At,
    pub commitment: At,
    /// The problem was fixed in the conversation (已经为您办理好了): nothing is left to follow up.
    pub resolved: At,
    pub prompt: bool,
    /// A complaint about the agent's manner (你先听我说完) answered by restating what the customer asks
    /// (您是想问…对吗): the agent listened, so it is not ignored (an apology is still due).
    pub listened: bool,
    /// Complaint cues in the customer's turns of this episode (at least one per turn): a grievance said
    /// strongly or repeated is a grievance felt.
    pub complaints: usize,
    /// The agent's first reply already offered a solution or fixed it.
    pub fixed_next: bool,
    /// The customer pressed it (grievance wording, or the problem said again after a reply): only a pressed
    /// episode is a complaint; one never pressed was a report the agent handled.
    pub pressed: bool,
    /// The agent's last reply asked the customer something back: the problem said again answers it.
    pub asked_back: bool,
}

impl Episode {
    /// A mild problem: one complaint cue, said once, and the agent's very next reply solved or fixed it. Its handling is not
    /// judged by the complaint ritual (empathy first, in order): the customer's need was met at once.
    pub(crate) fn mild(&self) -> bool {
        !self.manner && self.complaints == 1 && self.fixed_next
    }

    /// Neither empathy nor a solution came after the complaint.
    /// Nothing was done for the grievance: no empathy, no solution, no fix and no commitment (an escalation
    /// with 会反馈给维修部门 is a weak answer, not an ignored complaint).
    fn ignored(&self) -> bool {
        self.empathy.is_none()
            && !self.listened
            && self.solution.is_none()
            && self.resolved.is_none()
            && self.commitment.is_none()
    }

    /// Everything the complaint needs has come, so a new complaint starts a new episode.
    fn answered(&self) -> bool {
        self.replies > 0
            && self.empathy.is_some()
            && (self.manner
                || (self.solution.is_some()
                    && (self.commitment.is_some() || self.resolved.is_some())))
    }
}

/// The episodes of one conversation: the closed ones, aggregated, and the open one.
#[derive(Debug, Default)]
pub(crate) struct Complaints {
    pub closed: Episodes,
    pub current: Option<Episode>,
}

impl Complaints {
    /// A customer turn: a complaint opens an episode, or goes on with the open one. `repeated` describes a
    /// question asked again, and whether that alone is a grievance (after an answer, where the ruleset says so).
    pub(crate) fn customer(&mut self, view: &TurnView<'_>, repeated: Option<(String, bool)>) {
        let problem = view.cue(Cue::Complaint).map(|h| format!("“{}”", h.matched));
        let report = view.cue(Cue::Report).map(|h| format!("“{}”", h.matched));
        let manner = view
            .cue(Cue::ComplaintManner)
            .map(|h| format!("“{}”", h.matched));
        // What the customer says outright decides the kind: a complaint about the problem needs a solution; one
        // only about the agent's manner (你先听我说完, even while repeating the question) needs an apology.
        let trigger = match (problem, report, manner, repeated) {
            (Some(p), _, _, _) => Some((p, false, true)),
            (None, _, Some(m), _) => Some((m, true, true)),
            (None, Some(r), None, _) => Some((r, false, false)),
            (None, None, None, Some((r, grievance))) => Some((r, false, grievance)),
            (None, None, None, None) => None,
        };
        // Heat (你们就是厂家的售后啊！, 到底) presses a reported problem; alone it is no complaint.
        let insists = view.cue(Cue::Insist).is_some();
        let Some((trigger, manner, grievance)) = trigger else {
            if let Some(open) = self.current.as_mut().filter(|e| !e.answered()) {
                open.pressed |= insists && open.replies > 0 && !open.asked_back;
            }
            return;
        };
        // How strongly the turn complains: its complaint and report cues (坏了三次了，到底怎么回事 is two), at
        // least one. Two in one turn (未收到货，快递员不接电话) is a grievance said, not a passing report.
        let strength = [Cue::Complaint, Cue::Report]
            .iter()
            .filter_map(|&c| view.cue_index.get(c))
            .map(|i| view.cues.iter().filter(|h| h.cue == i).count())
            .sum::<usize>();
        let pressed_now = grievance || strength >= 2 || insists;
        let strength = strength.max(1);
        // A complaint while the last one is still not fully answered is the same grievance: the episode
        // goes on (and needs a solution once any part of it is about the problem). Said again after the
        // agent's reply, unasked, it is pressed.
        match self.current.as_mut().filter(|e| !e.answered()) {
            Some(open) => {
                open.manner &= manner;
                open.complaints += strength;
                open.pressed |= pressed_now || (open.replies > 0 && !open.asked_back);
            }
            None => {
                if let Some(done) = self.current.take() {
                    add_episode(&mut self.closed, &done, view.scoring);
                }
                self.current = Some(Episode {
                    turn: view.index,
                    trigger,
                    manner,
                    replies: 0,
                    empathy: None,
                    solution: None,
                    commitment: None,
                    resolved: None,
                    prompt: false,
                    listened: false,
                    complaints: strength,
                    fixed_next: false,
                    pressed: pressed_now,
                    asked_back: false,
                });
            }
        }
    }

    /// The turn of the open complaint when it has had neither empathy nor a solution yet.
    pub(crate) fn unaddressed(&self) -> Option<usize> {
        self.current
            .as_ref()
            .filter(|e| e.ignored())
            .map(|e| e.turn)
    }

    /// An agent turn: the first empathy, solution, commitment and fix after the open complaint. A turn that
    /// sends the customer elsewhere (`push_back`) offers no solution, whatever its words (建议您联系网点).
    pub(crate) fn agent(&mut self, view: &TurnView<'_>, push_back: bool) {
        let Some(ep) = self.current.as_mut() else {
            return;
        };
        ep.replies += 1;
        // The offers of help that open and close a chat (还有其他我可以为您效劳的么) offer nothing for the
        // grievance: a solution, commitment or apology inside them does not count.
        let offer_cues = [Cue::Greeting, Cue::Closing].map(|c| view.cue_index.get(c));
        let in_offer = |h: &super::cues::CueHit| {
            view.cues.iter().any(|o| {
                offer_cues.contains(&Some(o.cue))
                    && o.span.start <= h.span.start
                    && h.span.end <= o.span.end
            })
        };
        let first = |cue: Cue| {
            let i = view.cue_index.get(cue)?;
            view.cues
                .iter()
                .find(|h| h.cue == i && !in_offer(h))
                .map(|h| (view.index, h.at, h.matched.clone()))
        };
        if ep.empathy.is_none() {
            ep.empathy = first(Cue::Empathy);
            if ep.empathy.is_some() && ep.replies == 1 {
                ep.prompt = true;
            }
        }
        if ep.solution.is_none() && !push_back {
            // Steps the customer can take now (点击订单号申请售后) solve it as much as the agent acting does.
            ep.solution = first(Cue::Solution).or_else(|| first(Cue::Steps));
        }
        if ep.commitment.is_none() {
            ep.commitment = first(Cue::Commitment);
        }
        if ep.manner && first(Cue::NeedConfirmation).is_some() {
            ep.listened = true;
        }
        if ep.resolved.is_none() {
            ep.resolved = first(Cue::Resolved);
            // A fix made in the conversation is a solution.
            if ep.solution.is_none() {
                ep.solution = ep.resolved.clone();
            }
        }
        if ep.replies == 1 {
            ep.fixed_next = ep.solution.is_some() || ep.resolved.is_some();
        }
        ep.asked_back = [Cue::Question, Cue::NeedConfirmation]
            .iter()
            .filter_map(|&c| view.cue_index.get(c))
            .any(|i| view.cues.iter().any(|h| h.cue == i && !in_offer(h)));
    }

    /// The closed episodes with the open one closed as it stands.
    pub(crate) fn as_closed(&self, scoring: &huashu_rules::Scoring) -> Episodes {
        let mut episodes = self.closed.clone();
        if let Some(open) = &self.current {
            add_episode(&mut episodes, open, scoring);
        }
        episodes
    }
}

/// One closed episode, judged.
#[derive(Debug, Clone)]
pub(crate) struct EpisodeResult {
    /// Per [`EPISODE_CHECKS`]: None when the check does not apply to this complaint, else (passed, share).
    pub outcome: [Option<(bool, f64)>; 5],
    pub score: u32,
    pub evidence: String,
    pub found: Vec<(CheckId, String)>,
    pub missing: Vec<(CheckId, String)>,
    pub unaddressed: Option<(usize, String)>,
}

fn close_episode(ep: &Episode, scoring: &huashu_rules::Scoring) -> EpisodeResult {
    let cx = EpisodeCtx {
        after: format!("after the complaint at turn {}", ep.turn),
        late_empathy_share: scoring.dialogue.late_empathy_share,
    };
    let mut parts = vec![format!("complaint at turn {} ({})", ep.turn, ep.trigger)];
    let mild = scoring.dialogue.mild_complaints && ep.mild();
    if mild {
        parts.push(
            "mild: solved in the next reply, so missing empathy or order is not held against it"
                .into(),
        );
    }
    let mut found = Vec::new();
    let mut missing = Vec::new();
    let mut outcome: [Option<(bool, f64)>; 5] = [None; 5];
    let (mut earned, mut possible) = (0.0, 0.0);
    for (k, (id, judge, weight)) in EPISODE_CHECKS.iter().enumerate() {
        let v = judge(ep, &cx);
        // A mild problem solved at once is judged by its solution and follow-up: missing empathy or order
        // does not count against it (present, they still earn their points).
        if mild
            && matches!(id, CheckId::Empathy | CheckId::InOrder | CheckId::Prompt)
            && matches!(v.outcome, Some((false, _)))
        {
            continue;
        }
        parts.extend(v.part);
        found.extend(v.found.map(|f| (*id, f)));
        missing.extend(v.missing.map(|m| (*id, m)));
        if let Some((_, share)) = v.outcome {
            earned += weight * share;
            possible += weight;
        }
        outcome[k] = v.outcome;
    }
    let score = if possible > 0.0 {
        (100.0 * earned / possible).round() as u32
    } else {
        100
    };
    EpisodeResult {
        outcome,
        score,
        evidence: parts.join("; "),
        found,
        missing,
        unaddressed: ep.ignored().then(|| (ep.turn, ep.trigger.clone())),
    }
}

/// Adds a closed episode to the aggregates; one the customer never pressed was no complaint and counts for nothing.
fn add_episode(agg: &mut Episodes, ep: &Episode, scoring: &huashu_rules::Scoring) {
    if !ep.pressed {
        return;
    }
    let r = close_episode(ep, scoring);
    agg.count += 1;
    for (t, o) in agg.tally.iter_mut().zip(r.outcome) {
        if let Some((passed, share)) = o {
            t.applicable += 1;
            t.passed += passed as usize;
            t.earned += share;
        }
    }
    agg.structure_sum += r.score;
    if agg.unaddressed.is_none() {
        agg.unaddressed = r.unaddressed;
    }
    if agg.evidence.len() < MAX_STRUCTURE_EVIDENCE {
        agg.evidence.push(r.evidence);
    }
    for f in r.found {
        if agg.found.len() < 4 * MAX_STRUCTURE_EVIDENCE {
            agg.found.push(f);
        }
    }
    for m in r.missing {
        if agg.missing.len() < 4 * MAX_STRUCTURE_EVIDENCE {
            agg.missing.push(m);
        }
    }
}

/// A structure check over the complaints it applies to: points are the mean share earned.
pub(crate) fn judge(check: CheckId, episodes: &Episodes) -> Option<checks::Judged> {
    let t = episodes.tally(check)?;
    if t.applicable == 0 {
        return None;
    }
    let passed = t.passed == t.applicable;
    let list = if passed {
        &episodes.found
    } else {
        &episodes.missing
    };
    let detail = list
        .iter()
        .filter(|(id, _)| *id == check)
        .map(|(_, m)| m.as_str())
        .collect::<Vec<_>>()
        .join(" | ");
    Some(checks::Judged {
        passed,
        share: t.earned / t.applicable as f64,
        detail,
        turn: None,
    })
}

#[cfg(test)]
mod tests {
    use crate::conversation::checks::test_support::score;

    fn complaints(turns: &[(&str, &str)]) -> usize {
        score(turns).structure.complaints
    }

    #[test]
    fn chat_wording_of_an_upset_customer_is_a_complaint() {
        for said in [
            "一直都是待审核状态 [数字x]天了",
            "还有一包打印纸 这不扯淡嘛",
            "这样沟通太费劲了",
            "货还没送你们就降价了",
        ] {
            assert_eq!(
                complaints(&[("customer", said), ("agent", "好的")]),
                1,
                "{said}"
            );
        }
        // A price-protection claim is routine, not a grievance.
        let routine = "我买的充电宝降价了 是不是应该给我退差价";
        assert_eq!(complaints(&[("customer", routine), ("agent", "好的")]), 0);
    }

    #[test]
    fn a_question_asked_again_after_an_answer_is_no_complaint_in_chat() {
        let turns = [
            ("customer", "今天能发货吗？"),
            ("agent", "可以的，今天下午发出"),
            ("customer", "这个订单今天能发货吗？"),
            ("agent", "是的，今天下午发出"),
        ];
        assert_eq!(complaints(&turns), 0);
        // Asked again in other words after a reply without the substance asked for: the customer restates,
        // as chat customers do; asked a third time after another such reply, they are pressing for it.
        let restated = [
            ("customer", "退款什么时候能到账？"),
            ("agent", "原路退回的"),
            ("customer", "我想问一下退款大概什么时候能到账"),
            ("agent", "原路退回的"),
        ];
        assert_eq!(complaints(&restated), 0);
        let mut pressed = restated.to_vec();
        pressed.extend([
            ("customer", "我想问一下退款大概什么时候能到账"),
            ("agent", "嗯"),
        ]);
        assert_eq!(complaints(&pressed), 1);
        // The same words again at once: the customer insists (原样重复).
        let same = [
            ("customer", "退款什么时候能到账？"),
            ("agent", "原路退回的"),
            ("customer", "退款什么时候能到账？"),
            ("agent", "嗯"),
        ];
        assert_eq!(complaints(&same), 1);
    }

    #[test]
    fn a_calm_report_is_a_complaint_only_once_pressed() {
        let reply = ("agent", "增值税发票会在您确认收货后开具，然后寄出给您");
        // Reported and handled: the customer lets the answer stand.
        let calm = [
            ("customer", "我没收到发票"),
            reply,
            ("customer", "好的，谢谢"),
        ];
        assert_eq!(complaints(&calm), 0);
        // Said again after the reply: pressed.
        let again = [
            ("customer", "我没收到发票"),
            reply,
            ("customer", "可我同事的早就收到了，我的一直没收到"),
        ];
        assert_eq!(complaints(&again), 1);
        // Said again because the agent asked (是昨天拒收的吗 → 一直没有反应): an answer, not pressing.
        let asked = [
            ("customer", "这个订单拒收了，系统一直没有反应"),
            ("agent", "是昨天拒收的吗"),
            ("customer", "嗯嗯 一直没有反应"),
            ("agent", "我给您处理一下，退款到账短信告知您"),
        ];
        assert_eq!(complaints(&asked), 0);
        // Two failures in one turn, or the record contradicting it, are a grievance said at once.
        for said in [
            "未收到货，快递员不接电话",
            "我没收到货物 但订单显示已完成",
            "物品没收到啊，怎么就签收了",
        ] {
            assert_eq!(complaints(&[("customer", said), reply]), 1, "{said}");
        }
        // A demand beyond the routine with it presses it (换货的，货有问题，我不要修理过的).
        let demand = [
            (
                "customer",
                "换货的，货有问题，我不要修理过的，发一个新的给我",
            ),
            reply,
        ];
        assert_eq!(complaints(&demand), 1);
        // Grievance wording needs no pressing.
        assert_eq!(complaints(&[("customer", "都四天了还没发货"), reply]), 1);
    }

    #[test]
    fn an_offer_of_more_help_is_no_solution_to_a_complaint() {
        let r = score(&[
            ("customer", "物品没收到啊，怎么就签收了"),
            ("agent", "请问还有其他我可以为您效劳的么?"),
        ]);
        assert_eq!(r.structure.complaints, 1);
        assert!(!r.structure.solution, "{:?}", r.structure);
        let r = score(&[
            ("customer", "物品没收到啊，怎么就签收了"),
            ("agent", "可以为您申请补发，还有其他我可以为您效劳的么?"),
        ]);
        assert!(r.structure.solution, "{:?}", r.structure);
    }

    #[test]
    fn a_manner_complaint_answered_by_listening_is_not_ignored() {
        let turns = |reply: &'static str| {
            [
                ("customer", "已经收的手续费能不能退"),
                ("agent", "手续费是按期收的"),
                ("customer", "你先听我说完！我是问已经收了的能不能退给我"),
                ("agent", reply),
            ]
        };
        // Restating what the customer asks shows the agent listened: no unaddressed cap (39), empathy still fails.
        let listened = score(&turns(
            "您是想问已经收取的手续费能不能退，对吗？已收取的按规定不退",
        ));
        assert!(listened.score > 39, "{listened:?}");
        assert!(!listened.structure.empathy);
        let ignored = score(&turns("手续费是按期收的"));
        assert!(ignored.score <= 39, "{ignored:?}");
    }
}
