//! `huashu report RESULTS -o report.html`: one self-contained HTML page from `huashu score` JSON lines — score
//! distribution, most frequent findings by rule, failed scorecard checks, per-agent averages (when the input
//! conversations carry `agent`), and the worst conversations with their evidence. Aggregates are computed
//! here; the page's own script draws them as inline SVG. No network, no external assets.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;
use serde_json::{Value, json};

use huashu::CheckId;

use crate::input::{Lines, RawLine};
use crate::score::MAX_CONVERSATION_BYTES;

#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// `huashu score` results (JSON lines); standard input when none.
    pub results: Vec<String>,
    /// Where to write the page.
    #[arg(short, long, default_value = "report.html")]
    pub output: PathBuf,
    /// How many of the worst conversations to show with their evidence.
    #[arg(long, default_value_t = 20)]
    pub worst: usize,
    /// Page title.
    #[arg(long, default_value = "话术质检报告 · Huashu QA report")]
    pub title: String,
}

#[derive(Default, Serialize)]
struct RuleStat {
    rule: String,
    category: String,
    severity: String,
    findings: usize,
    conversations: usize,
    example: String,
    message: String,
}

#[derive(Default, Serialize)]
struct AgentStat {
    agent: String,
    conversations: usize,
    mean: f64,
    passed: usize,
    fatal: usize,
    #[serde(skip)]
    sum: u64,
}

/// Radar dimensions (the abilities the training manuals train) and the scorecard checks that feed each;
/// `compliance` is 100 minus the conversation's deductions.
const DIMS: [(&str, &[CheckId]); 7] = [
    ("compliance", &[]),
    (
        "courtesy",
        &[CheckId::Courtesy, CheckId::TalkOver, CheckId::SpeechRate],
    ),
    ("empathy", &[CheckId::Empathy, CheckId::Prompt]),
    ("solution", &[CheckId::Solution, CheckId::Responsiveness]),
    (
        "commitment",
        &[CheckId::Commitment, CheckId::EscalationTime],
    ),
    (
        "timeliness",
        &[CheckId::FirstResponse, CheckId::Silence, CheckId::Hold],
    ),
    (
        "flow",
        &[
            CheckId::Greeting,
            CheckId::NeedConfirmation,
            CheckId::Identity,
            CheckId::InOrder,
            CheckId::Closing,
        ],
    ),
];

/// How many findings a study list shows.
const STUDY: usize = 5;

/// One agent's (or one agent-month's) radar and KPIs, as sums.
#[derive(Default, Clone)]
struct Radar {
    conversations: usize,
    sum: u64,
    fatal: usize,
    first_judged: usize,
    first_ok: usize,
    earned: [f64; 7],
    max: [f64; 7],
    /// rule → (findings, message, suggested phrasing)
    rules: HashMap<String, (usize, String, String)>,
}

impl Radar {
    fn add(&mut self, r: &Value, score: u64, fatal: bool) {
        self.conversations += 1;
        self.sum += score;
        self.fatal += usize::from(fatal);
        let empty = Vec::new();
        let checks = r.get("checks").and_then(Value::as_array).unwrap_or(&empty);
        let mut deducted = 0.0;
        for c in checks {
            let id = str_of(c, "id");
            let points = c.get("points").and_then(Value::as_f64).unwrap_or(0.0);
            let max = c.get("max").and_then(Value::as_f64).unwrap_or(0.0);
            if id == "compliance" {
                deducted = -points.min(0.0);
                continue;
            }
            if id == CheckId::FirstResponse.name() {
                self.first_judged += 1;
                self.first_ok +=
                    usize::from(c.get("passed").and_then(Value::as_bool) == Some(true));
            }
            if let Some(i) = DIMS
                .iter()
                .position(|(_, ids)| ids.iter().any(|c| c.name() == id))
            {
                self.earned[i] += points.clamp(0.0, max);
                self.max[i] += max;
            }
        }
        self.earned[0] += (100.0 - deducted).max(0.0);
        self.max[0] += 100.0;
        let findings = r
            .get("findings")
            .and_then(Value::as_array)
            .unwrap_or(&empty);
        for f in findings {
            let rule = str_of(f, "rule");
            let e = self.rules.entry(rule).or_insert_with(|| {
                let sugg = f
                    .get("suggestions")
                    .and_then(Value::as_array)
                    .and_then(|s| s.first())
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                (0, str_of(f, "message"), sugg)
            });
            e.0 += 1;
        }
    }

    fn to_json(&self, agent: &str, month: Option<&str>) -> Value {
        let n = self.conversations.max(1) as f64;
        let round1 = |x: f64| (x * 10.0).round() / 10.0;
        let dims: Vec<Value> = DIMS
            .iter()
            .enumerate()
            .map(|(i, (d, _))| {
                let v = (self.max[i] > 0.0).then(|| round1(100.0 * self.earned[i] / self.max[i]));
                json!({"dim": d, "value": v})
            })
            .collect();
        let mut study: Vec<(&String, &(usize, String, String))> = self.rules.iter().collect();
        study.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
        let study: Vec<Value> = study
            .into_iter()
            .take(STUDY)
            .map(|(rule, (n, message, sugg))| {
                json!({"rule": rule, "findings": n, "message": message, "suggestion": sugg})
            })
            .collect();
        json!({
            "agent": agent,
            "month": month,
            "conversations": self.conversations,
            "mean": round1(self.sum as f64 / n),
            "fatal_share": round1(100.0 * self.fatal as f64 / n),
            "first_response_judged": self.first_judged,
            "first_response_30s": (self.first_judged > 0)
                .then(|| round1(100.0 * self.first_ok as f64 / self.first_judged as f64)),
            "dims": dims,
            "study": study,
        })
    }
}

/// `YYYY-MM` of a `date` / `started_at` value (an ISO date or date-time string, or epoch seconds/milliseconds).
fn month_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => {
            let m = s.get(..7)?;
            let b = m.as_bytes();
            (b.len() == 7
                && b[4] == b'-'
                && b[..4].iter().all(u8::is_ascii_digit)
                && b[5..].iter().all(u8::is_ascii_digit))
            .then(|| m.to_string())
        }
        Value::Number(n) => {
            let mut secs = n.as_i64()?;
            if secs > 100_000_000_000 {
                secs /= 1000;
            }
            // Civil from days (Howard Hinnant's algorithm), UTC.
            let days = secs.div_euclid(86_400);
            let z = days + 719_468;
            let era = z.div_euclid(146_097);
            let doe = z - era * 146_097;
            let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
            let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
            let mp = (5 * doy + 2) / 153;
            let month = if mp < 10 { mp + 3 } else { mp - 9 };
            let year = yoe + era * 400 + i64::from(month <= 2);
            Some(format!("{year:04}-{month:02}"))
        }
        _ => None,
    }
}

#[derive(Default, Serialize)]
struct CheckStat {
    id: String,
    judged: usize,
    failed: usize,
}

#[derive(Serialize, Clone)]
struct Worst {
    id: Value,
    agent: Option<Value>,
    score: u64,
    fatal: bool,
    fatal_reason: Option<String>,
    failed_checks: Vec<Value>,
    missing: Vec<Value>,
    findings: Vec<Value>,
    findings_total: u64,
    #[serde(skip)]
    seq: usize,
}

#[derive(Default)]
struct Agg {
    conversations: usize,
    errors: usize,
    sum: u64,
    passed: usize,
    fatal: usize,
    histogram: [[usize; 2]; 10],
    rules: HashMap<String, RuleStat>,
    agents: BTreeMap<String, AgentStat>,
    checks: Vec<CheckStat>,
    rulesets: BTreeMap<String, usize>,
    worst: Vec<Worst>,
    complaints: usize,
    structure_sum: u64,
    /// The whole team, then per agent, then per agent and month.
    team: Radar,
    radars: BTreeMap<String, Radar>,
    monthly: BTreeMap<(String, String), Radar>,
}

fn str_of(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

impl Agg {
    fn add(&mut self, r: &Value, keep: usize) {
        let score = r.get("score").and_then(Value::as_u64).unwrap_or(0).min(100);
        let passed = r.get("passed").and_then(Value::as_bool).unwrap_or(false);
        let fatal = r.get("fatal").and_then(Value::as_bool).unwrap_or(false);
        self.conversations += 1;
        self.sum += score;
        self.passed += usize::from(passed);
        self.fatal += usize::from(fatal);
        self.histogram[(score as usize / 10).min(9)][usize::from(passed)] += 1;
        *self.rulesets.entry(str_of(r, "ruleset")).or_default() += 1;
        self.team.add(r, score, fatal);
        if let Some(a) = r.get("agent").filter(|a| !a.is_null()) {
            let name = match a {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if let Some(month) = r.get("date").and_then(month_of) {
                self.monthly
                    .entry((name.clone(), month))
                    .or_default()
                    .add(r, score, fatal);
            }
            self.radars.entry(name).or_default().add(r, score, fatal);
        }
        if let Some(st) = r.get("structure") {
            if st.get("complaints").and_then(Value::as_u64).unwrap_or(0) > 0 {
                self.complaints += 1;
                self.structure_sum += st.get("score").and_then(Value::as_u64).unwrap_or(0);
            }
        }
        let empty = Vec::new();
        let findings = r
            .get("findings")
            .and_then(Value::as_array)
            .unwrap_or(&empty);
        let mut seen: Vec<&str> = Vec::new();
        for f in findings {
            let rule = f.get("rule").and_then(Value::as_str).unwrap_or("?");
            let s = self
                .rules
                .entry(rule.to_string())
                .or_insert_with(|| RuleStat {
                    rule: rule.to_string(),
                    category: str_of(f, "category"),
                    severity: str_of(f, "severity"),
                    example: str_of(f, "matched"),
                    message: str_of(f, "message"),
                    ..RuleStat::default()
                });
            s.findings += 1;
            if !seen.contains(&rule) {
                seen.push(rule);
                s.conversations += 1;
            }
        }
        let checks = r.get("checks").and_then(Value::as_array).unwrap_or(&empty);
        let mut failed_checks = Vec::new();
        for c in checks {
            let id = str_of(c, "id");
            let ok = c.get("passed").and_then(Value::as_bool).unwrap_or(true);
            let stat = match self.checks.iter_mut().position(|s| s.id == id) {
                Some(i) => &mut self.checks[i],
                None => {
                    self.checks.push(CheckStat {
                        id: id.clone(),
                        ..CheckStat::default()
                    });
                    let last = self.checks.len() - 1;
                    &mut self.checks[last]
                }
            };
            stat.judged += 1;
            if !ok {
                stat.failed += 1;
                failed_checks
                    .push(json!({"id": id, "detail": str_of(c, "detail"), "tip": c.get("tip")}));
            }
        }
        let agent = r.get("agent").filter(|a| !a.is_null()).cloned();
        if let Some(a) = &agent {
            let name = match a {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let s = self
                .agents
                .entry(name.clone())
                .or_insert_with(|| AgentStat {
                    agent: name,
                    ..AgentStat::default()
                });
            s.conversations += 1;
            s.sum += score;
            s.passed += usize::from(passed);
            s.fatal += usize::from(fatal);
        }
        if keep == 0 {
            return;
        }
        let worse =
            |a: &Worst, b: &Worst| (a.score, !a.fatal, a.seq).cmp(&(b.score, !b.fatal, b.seq));
        let candidate = Worst {
            id: r.get("id").cloned().unwrap_or(Value::Null),
            agent,
            score,
            fatal,
            fatal_reason: r
                .get("fatal_reason")
                .and_then(Value::as_str)
                .map(str::to_string),
            failed_checks,
            missing: r
                .get("structure")
                .and_then(|s| s.get("missing"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            findings: findings.iter().take(12).cloned().collect(),
            findings_total: r.get("findings_total").and_then(Value::as_u64).unwrap_or(0),
            seq: self.conversations,
        };
        if self.worst.len() >= keep {
            if let Some(last) = self.worst.last() {
                if worse(&candidate, last).is_ge() {
                    return;
                }
            }
        }
        let at = self.worst.partition_point(|w| worse(w, &candidate).is_lt());
        self.worst.insert(at, candidate);
        self.worst.truncate(keep);
    }
}

pub fn run(args: &ReportArgs) -> Result<ExitCode> {
    let mut agg = Agg::default();
    let mut failed_files = 0;
    let read = |reader: Box<dyn io::BufRead>, label: &str, agg: &mut Agg| {
        let mut lines = Lines::new(reader, MAX_CONVERSATION_BYTES);
        let mut n = 0;
        loop {
            let raw = match lines.next_line() {
                Ok(Some(RawLine::Bytes(b))) => b,
                Ok(Some(RawLine::TooLong(_))) => {
                    n += 1;
                    agg.errors += 1;
                    continue;
                }
                Ok(None) => break,
                Err(e) => {
                    eprintln!("huashu report: {label}: read error after line {n}: {e}");
                    break;
                }
            };
            n += 1;
            if raw.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Value>(&raw) {
                Ok(v) if v.get("error").is_none() && v.get("score").is_some() => {
                    agg.add(&v, args.worst);
                }
                Ok(_) => agg.errors += 1,
                Err(e) => {
                    eprintln!("huashu report: {label}:{n}: not a score result ({e}); skipped");
                    agg.errors += 1;
                }
            }
        }
    };
    if args.results.is_empty() {
        read(Box::new(io::stdin().lock()), "<stdin>", &mut agg);
    }
    for path in &args.results {
        match File::open(path) {
            Ok(f) => read(Box::new(BufReader::new(f)), path, &mut agg),
            Err(e) => {
                eprintln!("huashu report: cannot read {path}: {e}");
                failed_files += 1;
            }
        }
    }
    let html = render(&agg, &args.title)?;
    let mut f = File::create(&args.output)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    f.write_all(html.as_bytes())?;
    eprintln!(
        "huashu report: {} conversations ({} error lines skipped) → {}",
        agg.conversations,
        agg.errors,
        args.output.display()
    );
    Ok(if failed_files > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn render(agg: &Agg, title: &str) -> Result<String> {
    let mut rules: Vec<&RuleStat> = agg.rules.values().collect();
    rules.sort_by(|a, b| b.findings.cmp(&a.findings).then(a.rule.cmp(&b.rule)));
    rules.truncate(20);
    let agents: Vec<AgentStat> = agg
        .agents
        .values()
        .map(|a| AgentStat {
            agent: a.agent.clone(),
            conversations: a.conversations,
            mean: if a.conversations > 0 {
                (a.sum as f64 / a.conversations as f64 * 10.0).round() / 10.0
            } else {
                0.0
            },
            passed: a.passed,
            fatal: a.fatal,
            sum: a.sum,
        })
        .collect();
    let mean = if agg.conversations > 0 {
        agg.sum as f64 / agg.conversations as f64
    } else {
        0.0
    };
    let data = json!({
        "conversations": agg.conversations,
        "errors": agg.errors,
        "mean": (mean * 10.0).round() / 10.0,
        "passed": agg.passed,
        "fatal": agg.fatal,
        "complaints": agg.complaints,
        "structure_mean": if agg.complaints > 0 { (agg.structure_sum as f64 / agg.complaints as f64 * 10.0).round() / 10.0 } else { 0.0 },
        "histogram": agg.histogram,
        "rules": rules,
        "agents": agents,
        "checks": agg.checks,
        "rulesets": agg.rulesets,
        "worst": agg.worst,
        "radars": std::iter::once(agg.team.to_json("全部 All", None))
            .chain(agg.radars.iter().map(|(a, r)| r.to_json(a, None)))
            .chain(agg.monthly.iter().map(|((a, m), r)| r.to_json(a, Some(m))))
            .collect::<Vec<_>>(),
        "study": agg.team.to_json("", None)["study"],
    });
    // `<` escaped so that no string in the data can close the script element.
    let data = serde_json::to_string(&data)?.replace('<', "\\u003c");
    Ok(TEMPLATE
        .replace("{{TITLE}}", &escape(title))
        .replace("{{DATA}}", &data))
}

const TEMPLATE: &str = include_str!("report.html");
