//! The customer's questions, folded over turns: which were asked, which the agent answered, and which the
//! customer asked again. `responsiveness` judges them; a question asked again after an answer opens a
//! complaint episode (`complaints.rs`).

use std::collections::VecDeque;

use huashu_rules::Cue;

use super::checks::TurnView;
use super::report::Evidence;

/// Recent customer questions remembered to spot a repeated question.
const RECENT_CUSTOMER_TURNS: usize = 3;
/// Distinct character bigrams kept per remembered question (bounds the state on very long turns).
const MAX_BIGRAMS: usize = 96;
/// Characters of a question quoted in evidence.
const QUOTE_CHARS: usize = 24;

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
    recent_customer: VecDeque<RecentQuestion>,
}

/// A recent customer question, as character bigrams, for spotting the same question in other words.
#[derive(Debug, Clone)]
struct RecentQuestion {
    turn: usize,
    bigrams: Vec<u64>,
    answered: bool,
}

/// What a customer turn did to the questions.
#[derive(Debug, Default)]
pub(crate) struct CustomerTurn {
    /// The turn asks again a question the agent had answered: a grievance, described.
    pub repeated: Option<String>,
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
        let asks: Vec<usize> = match question {
            Some(q) => view
                .cues
                .iter()
                .filter(|h| h.cue == q)
                .map(|h| h.at)
                .collect(),
            None => Vec::new(),
        };
        let is_question = !asks.is_empty();
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
                // Only a question asked again after an answer is a grievance (the answer did not settle it);
                // asking again what got no answer yet (after a greeting, a hold) is the customer prompting, and
                // the responsiveness check already counts it.
                if earlier.answered {
                    earlier.answered = false;
                    self.answered = self.answered.saturating_sub(1);
                    self.unanswered.get_or_insert_with(|| {
                        Evidence::new(
                            earlier.turn,
                            format!("asked again at turn {index} (“{}”)", quote(text)),
                        )
                    });
                    out.repeated = Some(format!(
                        "the question of turn {} asked again (“{}”)",
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
            let reprompt = turn.reprompt_of.is_some()
                && self.pending.as_ref().map(|p| p.0) == turn.reprompt_of;
            // The pending question asked again before any answer is still one question, awaiting its answer.
            if !reprompt {
                if let Some((turn, words)) = self.pending.take() {
                    self.unanswered.get_or_insert_with(|| {
                        Evidence::new(
                            turn,
                            format!("“{words}” got no answer before the customer's next question at turn {index}"),
                        )
                    });
                }
                self.asked += 1;
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
            });
        }
    }

    /// An agent turn: it answers the pending question when it has content beyond 嗯/好的 and beyond shirking
    /// (不知道, 你自己去查, `shirk_chars`), and is neither a hold nor a "let me look it up" (请稍等,
    /// 我帮您查一下): then the answer is still to come.
    pub(crate) fn agent(&mut self, view: &TurnView<'_>, norm: &str, shirk_chars: usize) {
        let Some((turn, words)) = self.pending.clone() else {
            return;
        };
        let filler_cue = view.cue_index.get(Cue::Filler);
        let filler: usize = view
            .cues
            .iter()
            .filter(|h| Some(h.cue) == filler_cue)
            .map(|h| h.matched.chars().filter(|ch| ch.is_alphanumeric()).count())
            .sum();
        let content = norm
            .chars()
            .filter(|ch| ch.is_alphanumeric())
            .count()
            .saturating_sub(filler + shirk_chars);
        if view.cue(Cue::Hold).is_none()
            && view.cue(Cue::HoldNeeded).is_none()
            && content >= view.scoring.dialogue.min_answer_chars
        {
            self.answered += 1;
            self.pending = None;
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
}

/// The clauses of a normalised turn that contain one of `asks` (byte offsets of question cues); a clause
/// runs to and includes its closing punctuation, so a `?` cue belongs to the clause it ends.
fn question_clauses(norm: &str, asks: &[usize]) -> String {
    let mut out = String::new();
    let mut start = 0;
    let flush = |from: usize, to: usize, out: &mut String| {
        if asks.iter().any(|&a| a >= from && a < to) {
            out.push_str(&norm[from..to]);
            out.push('|');
        }
    };
    for (i, ch) in norm.char_indices() {
        if is_clause_end(ch) {
            let end = i + ch.len_utf8();
            flush(start, end, &mut out);
            start = end;
        }
    }
    flush(start, norm.len(), &mut out);
    out
}

fn is_clause_end(c: char) -> bool {
    matches!(
        c,
        ',' | '.'
            | '!'
            | '?'
            | ';'
            | ':'
            | '~'
            | '\n'
            | '，'
            | '。'
            | '！'
            | '？'
            | '；'
            | '：'
            | '、'
            | '…'
    )
}

/// Distinct bigrams of adjacent letters, digits or CJK characters (punctuation and spaces break them),
/// sorted, at most [`MAX_BIGRAMS`].
fn bigrams(text: &str) -> Vec<u64> {
    let mut out = Vec::new();
    let mut prev: Option<char> = None;
    for ch in text.chars() {
        if ch.is_alphanumeric() {
            let ch = ch.to_lowercase().next().unwrap_or(ch);
            if let Some(p) = prev {
                out.push(((p as u64) << 32) | ch as u64);
            }
            prev = Some(ch);
        } else {
            prev = None;
        }
    }
    out.sort_unstable();
    out.dedup();
    out.truncate(MAX_BIGRAMS);
    out
}

/// Dice coefficient of two sorted bigram sets: 2·|A∩B| / (|A|+|B|).
fn dice(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    2.0 * common as f64 / (a.len() + b.len()) as f64
}

/// The start of a turn, for evidence.
fn quote(text: &str) -> String {
    let t = text.trim();
    let mut q: String = t.chars().take(QUOTE_CHARS).collect();
    if t.chars().count() > QUOTE_CHARS {
        q.push('…');
    }
    q
}
