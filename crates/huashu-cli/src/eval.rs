//! `huashu eval`: a ruleset measured on labelled turns (see `huashu::eval` and docs/eval.md).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use huashu::eval::{CorpusRefs, Evaluation, evaluate, read_labels};

use crate::Format;

#[derive(clap::Args)]
pub struct EvalArgs {
    /// Labelled turns: JSON lines {"id","role","text" (or "ref"),"expect":[categories]}.
    pub labels: PathBuf,
    /// A bundled ruleset name or a ruleset directory.
    #[arg(long, default_value = "zh-CN")]
    pub ruleset: String,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Where `ref` fields point (default: $HUASHU_CORPORA, else ../shared/corpora when it exists).
    #[arg(long)]
    pub corpora: Option<PathBuf>,
    /// Exit 1 when a category's precision is below this.
    #[arg(long, default_value_t = 0.0)]
    pub min_precision: f64,
    /// Exit 1 when a category's recall is below this.
    #[arg(long, default_value_t = 0.0)]
    pub min_recall: f64,
    /// Rule ids to switch off (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub disable: Vec<String>,
    /// The rules alone: leave the ruleset's learned models (`learned/*.tsv`) out.
    #[arg(long)]
    pub rules_only: bool,
    /// The labels are annotated conversations (`{"id","score","complaint"?,…,"turns" | "source"}`): report
    /// rank correlation, band agreement, complaint detection and per-check agreement instead.
    #[arg(long)]
    pub conversations: bool,
    /// Most false positives and false negatives listed in text output (JSON lists them all).
    #[arg(long, default_value_t = 50)]
    pub show: usize,
}

pub fn run(args: &EvalArgs) -> Result<ExitCode> {
    let engine = std::sync::Arc::new(crate::commands::load_engine(
        &args.ruleset,
        &args.disable,
        !args.rules_only,
    )?);
    let input = std::fs::read_to_string(&args.labels)
        .with_context(|| format!("cannot read {}", args.labels.display()))?;
    let dir = corpora_dir(args.corpora.as_deref());
    if args.conversations {
        return conversations(args, &engine, &input, dir.as_deref());
    }
    let turns = read_labels(&input, &mut CorpusRefs::new(dir.as_deref()))
        .with_context(|| format!("{}", args.labels.display()))?;
    let e = evaluate(&engine, &turns);
    match args.format {
        Format::Jsonl => crate::outln!("{}", serde_json::to_string(&e)?)?,
        Format::Text => crate::out!("{}", text(&e, args.show))?,
    }
    let below = e.below(args.min_precision, args.min_recall);
    for b in &below {
        eprintln!("huashu eval: below the bar: {b}");
    }
    Ok(if below.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Where `ref` fields point: `explicit`, else $HUASHU_CORPORA, else ../shared/corpora when it exists.
pub fn corpora_dir(explicit: Option<&std::path::Path>) -> Option<PathBuf> {
    explicit
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HUASHU_CORPORA").map(PathBuf::from))
        .or_else(|| {
            let d = PathBuf::from("../shared/corpora");
            d.is_dir().then_some(d)
        })
}

fn ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "-".to_string(), |v| format!("{v:.3}"))
}

fn text(e: &Evaluation, show: usize) -> String {
    let mut s = format!("{}: {} labelled turns\n\n", e.ruleset, e.turns);
    s.push_str("category      tp    fp    fn  precision  recall  f1\n");
    for (cat, c) in &e.categories {
        s.push_str(&format!(
            "{cat:<11} {:>4}  {:>4}  {:>4}  {:>9}  {:>6}  {}\n",
            c.tp,
            c.fp,
            c.fn_,
            ratio(c.precision),
            ratio(c.recall),
            ratio(c.f1)
        ));
    }
    // As wide as the longest id: rule ids are short (F001), a learned model's is longer (L-forbidden).
    let w = e
        .rules
        .iter()
        .map(|r| r.rule.chars().count())
        .max()
        .unwrap_or(0)
        .max(7);
    s.push_str(&format!(
        "\n{:<w$} category   status   hits  true  precision\n",
        "rule"
    ));
    for r in &e.rules {
        s.push_str(&format!(
            "{:<w$} {:<10} {:<7} {:>5} {:>5}  {}\n",
            r.rule,
            r.category,
            r.status,
            r.hits,
            r.true_hits,
            ratio(r.precision)
        ));
    }
    for (title, list) in [
        ("false positives", &e.false_positives),
        ("false negatives", &e.false_negatives),
    ] {
        s.push_str(&format!("\n{title} ({}):\n", list.len()));
        for d in list.iter().take(show) {
            let found: Vec<String> = d
                .findings
                .iter()
                .map(|f| format!("{} “{}” {}..{}", f.rule, f.matched, f.start, f.end))
                .collect();
            s.push_str(&format!(
                "  line {} [{}] {}: {}\n    {}\n",
                d.line,
                match &d.id {
                    serde_json::Value::String(x) => x.clone(),
                    other => other.to_string(),
                },
                d.category,
                d.text,
                if found.is_empty() {
                    "(no finding)".to_string()
                } else {
                    found.join("; ")
                }
            ));
            for n in &d.near_misses {
                s.push_str(&format!(
                    "    near miss: {} “{}” {}..{}, dropped by {}\n",
                    n.rule, n.matched, n.start, n.end, n.dropped_by
                ));
            }
        }
        if list.len() > show {
            s.push_str(&format!(
                "  … {} more (--show N, or --format jsonl)\n",
                list.len() - show
            ));
        }
    }
    s
}

fn conversations(
    args: &EvalArgs,
    engine: &std::sync::Arc<huashu::Engine>,
    input: &str,
    dir: Option<&std::path::Path>,
) -> Result<ExitCode> {
    use huashu::eval_chats::{evaluate_chats, read_chat_labels};
    let chats = read_chat_labels(input, dir)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.labels.display()))?;
    let e = evaluate_chats(engine, &chats, args.show);
    match args.format {
        Format::Jsonl => crate::outln!("{}", serde_json::to_string(&e)?)?,
        Format::Text => {
            let mut s = format!(
                "{}: {} annotated conversations\n  rank correlation {:.3}\n  band agreement   {:.3}\n  complaint        P {}  R {}\n",
                e.ruleset,
                e.conversations,
                e.rank_correlation,
                e.band_agreement,
                ratio(e.complaint_precision),
                ratio(e.complaint_recall)
            );
            for (c, agree, of) in &e.checks {
                s.push_str(&format!("  {c:<18} agrees {agree:.3} of {of}\n"));
            }
            s.push_str("\nmost disagreeing:\n");
            for w in &e.worst {
                s.push_str(&format!(
                    "  {} annotated {:.1} scored {} complaint {:?}/{}\n    complaints: {}\n    failed: {}\n    findings: {}\n",
                    w.id,
                    w.annotated,
                    w.scored,
                    w.complaint_annotated,
                    w.complaint_detected,
                    w.complaints.join(" | "),
                    w.failed_checks.join("; "),
                    w.findings.join("; ")
                ));
            }
            crate::out!("{s}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
