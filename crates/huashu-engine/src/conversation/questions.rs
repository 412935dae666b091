//! The customer's questions, folded over turns: which were asked, which the agent answered, and which the
//! customer asked again. `responsiveness` judges them; a question asked again after an answer opens a
//! complaint episode (`complaints.rs`).

use std::collections::VecDeque;

use huashu_rules::Cue;
use huashu_text::Span;

use super::checks::TurnView;
use super::clauses::{
    answer_region, bigrams, clause_end, clause_start, content_chars, dice, nudge, question_clauses,
    quote, union,
};
use super::report::Evidence;

/// Recent customer questions remembered to spot a repeated question.
const RECENT_CUSTOMER_TURNS: usize = 3;
/// Bigram similarity from which a repeat is the same words again, not a restatement (the customer adding the
/// order or the detail).
const VERBATIM_SIMILARITY: f64 = 0.9;

/// Customer questions and whether the agent answered them.
#[derive(Debug, Default, Clone)]
pub(crate) struct Questions {
    pub asked: usize,
    pub answered: usize,
    /// The last question, still waiting for an answer: (turn, quoted words).
    pub pending: Option<(usize, String)>,
    pub answered_example: Option<Evidence>,
    /// The first question left unanswered (another question came first, or the customer had to ask again).
    pub unanswered: Option<Evidence>,
    /// What the pending question needs from an answer (a time, steps, a yes or a no).
    pub pending_kind: Kind,
    /// Why the agent's last reply to the pending question was no answer (no time, a stall), for evidence.
    pub pending_why: Option<Evidence>,
    /// Questions that got a reply with content but without the substance they asked for (no time for a
    /// when-question, no steps, no yes or no) and no real answer after it: half an answer.
    pub thin: usize,
    /// The pending question's last reply was such a thin one.
    pub pending_thin: bool,
    /// Agent turns that stalled without news (催一下, 请您耐心等待) so far: the first is half an answer, the rest none.
    pub stalls: usize,
    /// The agent's last turn asked the customer something back (请问是这个商品吗, 是什么原因要取消呢): the
    /// customer's next question answers it and goes on with the pending one, it does not leave it unanswered.
    asked_back: bool,
    recent_customer: VecDeque<RecentQuestion>,
}

/// What a customer question needs from an answer to count as one.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Any reply with content.
    #[default]
    Open,
    /// 什么时候, 几天, 多久: a time or a date (`time` cue).
    When,
    /// 怎么操作, 如何申请: steps (`steps` cue).
    How,
    /// 能不能, 可以吗: a yes or a no (`yes_no` cue).
    YesNo,
    /// 帮我改一下吧, 麻烦帮忙加快: the agent doing it, or agreeing to (好的, 嗯嗯: a `yes_no` cue, filler
    /// or not); a hold or a stall alone (建议您耐心等待) does not.
    Request,
    /// A problem reported without a question (上次买的打不开, 我没收到发票): a remedy, a fix, a step, a
    /// follow-up or when it will be (a time); an apology or an explanation alone is half an answer.
    Problem,
}

impl Kind {
    /// The kind of a customer turn's question: the strictest its cues ask for.
    fn of(view: &TurnView<'_>) -> Kind {
        if view.cue(Cue::AskWhen).is_some() {
            Kind::When
        } else if view.cue(Cue::AskHow).is_some() {
            Kind::How
        } else if view.cue(Cue::AskYesNo).is_some() {
            Kind::YesNo
        } else if view.cue(Cue::AskAction).is_some() {
            Kind::Request
        } else if view.cue(Cue::Question).is_none() && view.cue(Cue::Report).is_some() {
            Kind::Problem
        } else {
            Kind::Open
        }
    }

    /// The cues an answer needs (any one of them; the first names the list the ruleset must have), and what
    /// a reply without them lacks. A how-question (怎么退款) is answered by the steps or by the agent doing it
    /// for the customer (我给您处理, 已为您取消): the customer needs no steps for what is already done.
    fn needs(self) -> Option<(&'static [Cue], &'static str)> {
        match self {
            Kind::Open | Kind::Request => None,
            Kind::When => Some((&[Cue::Time], "no time or date for a when-question")),
            Kind::How => Some((
                &[Cue::Steps, Cue::Solution, Cue::Resolved],
                "no steps for a how-question",
            )),
            Kind::YesNo => Some((&[Cue::YesNo], "no yes or no for a yes/no question")),
            Kind::Problem => Some((
                &[
                    Cue::Solution,
                    Cue::Steps,
                    Cue::Resolved,
                    Cue::Commitment,
                    Cue::Time,
                ],
                "no remedy for a reported problem",
            )),
        }
    }
}

/// A recent customer question, as character bigrams, for spotting the same question in other words.
#[derive(Debug, Clone)]
struct RecentQuestion {
    turn: usize,
    bigrams: Vec<u64>,
    answered: bool,
    /// The agent replied, but without the substance the question asked for (no time, a stall).
    replied: bool,
}

/// What a customer turn did to the questions.
#[derive(Debug, Default)]
pub(crate) struct CustomerTurn {
    /// The turn asks again a question the agent had answered: a grievance, described.
    pub repeated: Option<String>,
    /// The repeated question had been answered (not merely replied to without substance).
    pub after_answer: bool,
    /// Asked again in the same words (原样重复: the customer insists), not restated with more detail.
    pub verbatim: bool,
    /// The turn of an earlier question, not answered yet, that this one asks again.
    reprompt_of: Option<usize>,
    is_question: bool,
    grams: Vec<u64>,
}

impl Questions {
    /// First half of a customer turn: is it a question, and does it repeat an earlier one?
    pub(crate) fn customer_repeat(&mut self, view: &TurnView<'_>, norm: &str) -> CustomerTurn {
        let d = view.scoring.dialogue;
        let index = view.index;
        let text = view.text;
        let question = view.cue_index.get(Cue::Question);
        // With a `question` cue list, questions are the clauses that ask something; without one, every turn
        // is compared whole (only a verbatim repeat of at least 4 chars used to count).
        // A problem reported without a question (上次买的打不开) is a need as much as a question is.
        let report = view.cue_index.get(Cue::Report);
        let asks: Vec<usize> = match question {
            Some(q) => view
                .cues
                .iter()
                .filter(|h| h.cue == q || Some(h.cue) == report)
                .map(|h| h.at)
                .collect(),
            None => Vec::new(),
        };
        // A nudge (?, ？？, 人呢?) asks nothing new: the pending question still waits for its answer.
        let is_question = !asks.is_empty() && !nudge(text);
        let grams = if question.is_some() {
            bigrams(&question_clauses(norm, &asks))
        } else {
            bigrams(norm)
        };
        let mut out = CustomerTurn {
            is_question,
            ..CustomerTurn::default()
        };
        if grams.len() >= d.repeat_min_bigrams.max(1) {
            if let Some(earlier) = self.recent_customer.iter_mut().rev().find(|q| {
                q.bigrams.len() >= d.repeat_min_bigrams.max(1)
                    && dice(&q.bigrams, &grams) >= d.repeat_similarity
            }) {
                out.verbatim = dice(&earlier.bigrams, &grams) >= VERBATIM_SIMILARITY;
                // Only a question asked again after an answer is a grievance (the answer did not settle it);
                // asking again what got no answer yet (after a greeting, a hold) is the customer prompting, and
                // the responsiveness check already counts it.
                if earlier.answered {
                    // Where asking again after an answer is a grievance (the answer did not settle it), the
                    // earlier answer no longer counts. Where it is not (chat customers re-ask calmly, or ask
                    // again a reply they missed), the question was answered: the repeat is no new question
                    // waiting for an answer, and the earlier one stays answered.
                    if !d.repeat_after_answer_is_complaint {
                        out.is_question = false;
                    } else {
                        earlier.answered = false;
                        self.answered = self.answered.saturating_sub(1);
                        self.unanswered.get_or_insert_with(|| {
                            Evidence::new(
                                earlier.turn,
                                format!("asked again at turn {index} (“{}”)", quote(text)),
                            )
                        });
                    }
                    out.after_answer = true;
                    out.repeated = Some(format!(
                        "the question of turn {} asked again (“{}”)",
                        earlier.turn,
                        quote(text)
                    ));
                } else if earlier.replied {
                    // Replied to without substance (原路退回的 to 什么时候到账): asking again is the same grievance.
                    earlier.replied = false;
                    out.repeated = Some(format!(
                        "the question of turn {} asked again after a reply without substance (“{}”)",
                        earlier.turn,
                        quote(text)
                    ));
                } else {
                    out.reprompt_of = Some(earlier.turn);
                }
            }
        }
        out.grams = grams;
        out
    }

    /// Second half of a customer turn: a question now waits for its answer.
    pub(crate) fn customer_ask(&mut self, view: &TurnView<'_>, turn: CustomerTurn) {
        let index = view.index;
        if turn.is_question {
            let reprompt = self.pending.is_some()
                && (self.asked_back || self.pending.as_ref().map(|p| p.0) == turn.reprompt_of);
            // The pending question asked again before any answer is still one question, awaiting its answer.
            if !reprompt {
                // A thin reply earns half only when the customer let it stand: asking the same again says
                // it did not answer.
                self.thin += usize::from(
                    self.pending.is_some() && self.pending_thin && turn.repeated.is_none(),
                );
                self.pending_thin = false;
                if let Some((turn, words)) = self.pending.take() {
                    let why = self.pending_why.take();
                    self.unanswered.get_or_insert_with(|| {
                        let why = why.map_or(String::new(), |w| format!(" (turn {}: {})", w.turn, w.text));
                        Evidence::new(
                            turn,
                            format!("“{words}” got no answer before the customer's next question at turn {index}{why}"),
                        )
                    });
                }
                self.asked += 1;
                self.pending_kind = Kind::of(view);
                self.pending_why = None;
            } else if self.pending.as_ref().map(|p| p.0) != turn.reprompt_of {
                // After a question back, a new question is what the agent must answer now: its need stands
                // (其它颜色也没有吗 after 啥时候有货 needs a yes or no, not a time).
                self.pending_kind = Kind::of(view);
            } else {
                // Asked again in other words: the stricter need of the two stands.
                let k = Kind::of(view);
                if self.pending_kind == Kind::Open {
                    self.pending_kind = k;
                }
            }
            self.pending = Some((index, quote(view.text)));
        }
        if turn.is_question || view.cue_index.get(Cue::Question).is_none() {
            if self.recent_customer.len() == RECENT_CUSTOMER_TURNS {
                self.recent_customer.pop_front();
            }
            self.recent_customer.push_back(RecentQuestion {
                turn: index,
                bigrams: turn.grams,
                answered: false,
                replied: false,
            });
        }
    }

    /// An agent turn: it answers the pending question when, after any hold or "let me look it up" in it
    /// (请稍等, 我帮您查一下: what follows them in the same turn is the answer), it has content beyond 嗯/好的
    /// and beyond shirking (不知道, 你自己去查, `shirk_chars`), and has the substance the question asks for:
    /// a time or a date for a when-question, steps for a how-question, a yes or a no for a yes/no question.
    /// A stall without news (催一下, 请您耐心等待) is half an answer the first time and none after; `push_back` (a turn that sends
    /// the customer elsewhere) never does.
    pub(crate) fn agent(&mut self, view: &TurnView<'_>, shirk_chars: usize, push_back: bool) {
        let stall = view.cue(Cue::Stall).is_some() && view.cue(Cue::Time).is_none();
        self.asked_back = false;
        let Some((turn, words)) = self.pending.clone() else {
            self.stalls += stall as usize;
            return;
        };
        // Words that answer nothing: acknowledgements and forms of address (filler), the offer of help that
        // opens a chat (greeting) and the one that closes it (还有其他可以帮到您的吗: closing). A closing offer
        // sent to a customer still asking is no answer to them (`early_closing` judges the closing itself).
        let empty_cues = [Cue::Filler, Cue::Greeting, Cue::Closing].map(|c| view.cue_index.get(c));
        let filler_spans = union(
            view.cues
                .iter()
                .filter(|h| empty_cues.contains(&Some(h.cue)))
                .map(|h| h.span),
        );
        // The offers of help (有什么问题我可以帮您处理, 还有其他可以帮您的吗): their 可以 agrees to nothing.
        let offer_cues = [Cue::Greeting, Cue::Closing].map(|c| view.cue_index.get(c));
        let offer_spans: Vec<Span> = view
            .cues
            .iter()
            .filter(|h| offer_cues.contains(&Some(h.cue)))
            .map(|h| h.span)
            .collect();
        let hold_cues = [Cue::Hold, Cue::HoldNeeded].map(|c| view.cue_index.get(c));
        let holds = union(
            view.cues
                .iter()
                .filter(|h| hold_cues.contains(&Some(h.cue)))
                .map(|h| Span {
                    start: clause_start(view.text, h.span.start),
                    end: clause_end(view.text, h.span.end),
                }),
        );
        let region = answer_region(
            view.text,
            &holds,
            &filler_spans,
            view.scoring.dialogue.min_answer_chars,
        );
        let content = content_chars(view.text, region, &filler_spans).saturating_sub(shirk_chars);
        let inside_filler = |h: &super::cues::CueHit| {
            filler_spans
                .iter()
                .any(|f| f.start <= h.span.start && h.span.end <= f.end)
        };
        let in_answer =
            |h: &super::cues::CueHit| region.start <= h.span.start && h.span.end <= region.end;
        // Asking the customer back (a question or a restatement outside the offers of help) makes their next
        // question part of this exchange.
        let asks_back = [Cue::Question, Cue::NeedConfirmation]
            .iter()
            .filter_map(|&c| view.cue_index.get(c))
            .any(|i| view.cues.iter().any(|h| h.cue == i && !inside_filler(h)));
        // A substance cue inside filler says nothing: the 有 of 还有什么可以帮您 is no yes to 有联系方式么.
        let has_after = |cue: Cue| {
            view.cue_index.get(cue).is_some_and(|i| {
                view.cues
                    .iter()
                    .any(|h| h.cue == i && in_answer(h) && !inside_filler(h))
            })
        };
        // Agreeing to a request (or refusing it) answers it even in filler words (嗯嗯 / 好的呢 to 尽量帮我发熟点的),
        // before any hold (好的，请稍等); an offer of help or a hold alone does not.
        let agreed = self.pending_kind == Kind::Request
            && view.cue_index.get(Cue::YesNo).is_some_and(|i| {
                view.cues.iter().any(|h| {
                    h.cue == i
                        && !offer_spans
                            .iter()
                            .any(|f| f.start <= h.span.start && h.span.end <= f.end)
                })
            });
        let content = if agreed {
            content.max(view.scoring.dialogue.min_answer_chars)
        } else {
            content
        };
        // News besides the stall: a time, a fix, a step, a follow-up or a remedy that is not the chasing
        // itself (帮您催 is both a `solution` and a `stall` phrase).
        let stall_spans: Vec<Span> = view
            .cue_index
            .get(Cue::Stall)
            .map(|i| {
                view.cues
                    .iter()
                    .filter(|h| h.cue == i)
                    .map(|h| h.span)
                    .collect()
            })
            .unwrap_or_default();
        let news = [
            Cue::Time,
            Cue::Resolved,
            Cue::Steps,
            Cue::Commitment,
            Cue::Solution,
        ]
        .iter()
        .filter_map(|&c| view.cue_index.get(c))
        .any(|i| {
            view.cues.iter().any(|h| {
                h.cue == i
                    && in_answer(h)
                    && !inside_filler(h)
                    && !stall_spans
                        .iter()
                        .any(|f| f.start < h.span.end && h.span.start < f.end)
            })
        });
        let mut lacks = None;
        let mut thin = false;
        if content < view.scoring.dialogue.min_answer_chars {
            // No answer yet (a hold, 嗯): nothing to explain.
        } else if push_back {
            lacks = Some("sends the customer elsewhere");
        } else if stall && !news {
            // 耐心等待 / 帮您催一下 / 帮您反馈 is no substance: the first time half an answer, again none.
            lacks = Some(if self.stalls > 0 {
                "stalls again without news"
            } else {
                "stalls without news"
            });
            thin = self.stalls == 0;
        } else if let Some((cues, why)) = self.pending_kind.needs() {
            // A ruleset without the cue list cannot judge the substance: any content answers.
            if view.cue_index.get(cues[0]).is_some() && !cues.iter().any(|&c| has_after(c)) {
                lacks = Some(why);
                thin = true;
            }
        }
        self.stalls += stall as usize;
        self.asked_back = asks_back;
        if content < view.scoring.dialogue.min_answer_chars {
            return;
        }
        if let Some(why) = lacks {
            self.pending_thin = thin;
            if let Some(last) = self.recent_customer.back_mut() {
                if last.turn == turn {
                    last.replied = true;
                }
            }
            self.pending_why = Some(Evidence::new(
                view.index,
                format!("“{}”: {why}", quote(view.text)),
            ));
            return;
        }
        self.answered += 1;
        self.pending = None;
        self.pending_why = None;
        self.pending_thin = false;
        self.answered_example.get_or_insert_with(|| {
            Evidence::new(
                view.index,
                format!("answers the question of turn {turn} (“{words}”)"),
            )
        });
        if let Some(last) = self.recent_customer.back_mut() {
            if last.turn == turn {
                last.answered = true;
            }
        }
    }
}
