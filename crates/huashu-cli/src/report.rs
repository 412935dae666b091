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
    });
    // `<` escaped so that no string in the data can close the script element.
    let data = serde_json::to_string(&data)?.replace('<', "\\u003c");
    Ok(TEMPLATE
        .replace("{{TITLE}}", &escape(title))
        .replace("{{DATA}}", &data))
}

const TEMPLATE: &str = include_str!("report.html");
