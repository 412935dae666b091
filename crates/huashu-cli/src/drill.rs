//! `huashu drill [NAME]`: role-play practice in the terminal. The customer's line, the trainee's reply, immediate
//! feedback (findings with the compliant rewrite, empathy/solution/commitment present or not, the running score),
//! then a summary with one coaching tip per weakness. `--replies FILE` scripts the trainee (one reply per line)
//! for tests and for scoring a class; the exit code is 1 when the drill is failed.

use std::fs;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Args;
use huashu::drill::{DrillRun, Feedback, Presence, Summary};
use huashu::rules::Drill;
use huashu::{Engine, Ruleset};

use crate::Format;

#[derive(Debug, Clone, Args)]
pub struct DrillArgs {
    /// The drill (id such as `logistics-delay`, or name such as `物流延误`); lists the drills when absent.
    pub name: Option<String>,
    /// The trainee's replies, one per line (blank lines skipped); standard input when absent.
    #[arg(long)]
    pub replies: Option<PathBuf>,
    /// A ruleset directory whose `drills/` to use instead of the bundled drills.
    #[arg(long)]
    pub ruleset: Option<String>,
    /// `text` for people; `jsonl`: one feedback object per reply, then the summary.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

fn drills(args: &DrillArgs) -> Result<Vec<Drill>> {
    Ok(match &args.ruleset {
        Some(dir) if Path::new(dir).is_dir() => Drill::load_dir(dir)?,
        Some(name) => Drill::builtin_all()?
            .into_iter()
            .filter(|d| d.ruleset_name() == name)
            .collect(),
        None => Drill::builtin_all()?,
    })
}

fn engine_for(args: &DrillArgs, drill: &Drill) -> Result<Arc<Engine>> {
    let source = match &args.ruleset {
        Some(dir) if Path::new(dir).is_dir() => dir.clone(),
        _ => drill.ruleset_name().to_string(),
    };
    Ok(Arc::new(Engine::new(Ruleset::load(&source)?)?))
}

pub fn run(args: &DrillArgs) -> Result<ExitCode> {
    let all = drills(args)?;
    let Some(name) = &args.name else {
        let mut out = io::stdout().lock();
        for d in &all {
            writeln!(
                out,
                "{:<24} {:<14} {:<14} {} 轮  及格 {}",
                d.id,
                d.name,
                d.ruleset_name(),
                d.steps.len(),
                d.pass_mark
            )?;
        }
        return Ok(ExitCode::SUCCESS);
    };
    let Some(drill) = all.iter().find(|d| &d.id == name || &d.name == name) else {
        let known: Vec<String> = all
            .iter()
            .map(|d| format!("{} ({})", d.id, d.name))
            .collect();
        bail!("no drill named {name:?}; known: {}", known.join(", "));
    };
    let engine = engine_for(args, drill)?;
    let mut run = DrillRun::new(Arc::new(drill.clone()), engine);
    let scripted: Option<Vec<String>> = match &args.replies {
        Some(path) => Some(
            fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?
                .lines()
                .map(|l| l.trim().trim_start_matches('\u{FEFF}').to_string())
                .filter(|l| !l.is_empty())
                .collect(),
        ),
        None => None,
    };
    let text = args.format == Format::Text;
    let interactive = scripted.is_none() && io::stdin().is_terminal();
    let mut out = io::stdout().lock();
    if text {
        writeln!(
            out,
            "练习 {} ({}) · {} · {} 轮 · 及格 {} 分",
            drill.name,
            drill.id,
            drill.ruleset_name(),
            drill.steps.len(),
            drill.pass_mark
        )?;
        writeln!(out, "场景：{}", drill.scenario)?;
        writeln!(out, "客户：{}", drill.persona)?;
    }
    let mut scripted = scripted.map(Vec::into_iter);
    let mut stdin = io::stdin().lock();
    while let Some(prompt) = run.prompt().map(str::to_string) {
        if text {
            writeln!(
                out,
                "\n[{}/{}] 客户：{prompt}",
                run.step() + 1,
                drill.steps.len()
            )?;
        }
        let reply = match scripted.as_mut() {
            Some(it) => it.next(),
            None => {
                if interactive {
                    write!(out, "你> ")?;
                    out.flush()?;
                }
                let mut line = String::new();
                let n = stdin.read_line(&mut line)?;
                (n > 0).then(|| line.trim().to_string())
            }
        };
        let Some(reply) = reply else {
            if text {
                writeln!(out, "（没有回复：本轮及以后各轮记 0 分）")?;
            }
            break;
        };
        if text && !interactive {
            writeln!(out, "你：{reply}")?;
        }
        let fb = run.reply(&reply).map_err(|e| anyhow::anyhow!("{e}"))?;
        if text {
            write_feedback(&mut out, &fb)?;
        } else {
            serde_json::to_writer(&mut out, &fb)?;
            writeln!(out)?;
        }
    }
    let summary = run.summary();
    if text {
        write_summary(&mut out, &summary)?;
    } else {
        serde_json::to_writer(&mut out, &summary)?;
        writeln!(out)?;
    }
    out.flush()?;
    Ok(if summary.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn mark(p: &Presence) -> String {
    match (&p.present, &p.matched) {
        (true, Some(m)) => format!("✓ “{m}”"),
        (true, None) => "✓".into(),
        (false, _) => "✗".into(),
    }
}

fn write_feedback(out: &mut impl Write, fb: &Feedback) -> io::Result<()> {
    let structure: Vec<String> = fb
        .structure
        .iter()
        .map(|p| format!("{} {}", p.label, mark(p)))
        .collect();
    writeln!(out, "  {}", structure.join("   "))?;
    if !fb.requirements.is_empty() {
        let reqs: Vec<String> = fb
            .requirements
            .iter()
            .map(|p| {
                let ok = if p.present { "✓" } else { "✗" };
                format!("{}({}) {ok}", p.label, p.name)
            })
            .collect();
        writeln!(out, "  要求：{}", reqs.join("  "))?;
    }
    for f in &fb.findings {
        writeln!(
            out,
            "  ✗ {} {}/{} “{}”：{}",
            f.rule, f.category, f.severity, f.matched, f.message
        )?;
        if let Some(s) = &f.suggestion {
            writeln!(out, "    → {s}")?;
        }
    }
    if fb.rewrite != fb.reply {
        writeln!(out, "  合规改写：{}", fb.rewrite)?;
    }
    if fb.step_score < 100 {
        if let Some(m) = &fb.model {
            writeln!(out, "  参考答案：{m}")?;
        }
    }
    writeln!(
        out,
        "  本轮 {} 分 · 累计 {} 分",
        fb.step_score, fb.running_score
    )
}

fn write_summary(out: &mut impl Write, s: &Summary) -> io::Result<()> {
    let verdict = match (s.passed, s.fatal) {
        (true, _) => "通过 PASS",
        (false, true) => "未通过 FAIL（红线）",
        (false, false) => "未通过 FAIL",
    };
    writeln!(
        out,
        "\n结果：{}/100 {verdict}（及格 {}；各轮 {:?}）",
        s.score, s.pass_mark, s.steps
    )?;
    if !s.tips.is_empty() {
        writeln!(out, "辅导建议：")?;
        for t in &s.tips {
            writeln!(out, "  [{}] {}", t.weakness, t.tip)?;
        }
    }
    Ok(())
}
