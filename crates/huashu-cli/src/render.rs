//! Output shapes of `huashu scan` (ARCHITECTURE.md, "Output contract": other tools depend on them; keep them stable).

use huashu::{Finding, Severity, Withheld};
use serde::Serialize;
use serde_json::Value;

/// The scan output shapes live in `huashu::wire` (one definition, shared with the sidecar daemon).
pub use huashu::wire::{FindingOut, ScanOut};

#[derive(Serialize)]
pub struct ErrorOut<'a> {
    pub id: Value,
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<&'a str>,
    pub error: &'a str,
}

/// Terminal columns a string takes (CJK and full-width characters take two).
pub fn width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

fn char_width(c: char) -> usize {
    let u = c as u32;
    let wide = matches!(u,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD);
    if c.is_control() {
        0
    } else if wide {
        2
    } else {
        1
    }
}

/// Human-readable report of one scanned line: the text, a marker under each finding, message, suggestion.
pub fn text_report(
    label: &str,
    text: &str,
    findings: &[Finding],
    rewrite: &Result<String, Withheld>,
) -> String {
    let mut out = String::new();
    let shown: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    out.push_str(&format!("{label}: {shown}\n"));
    if findings.is_empty() {
        out.push_str("  ok\n");
        return out;
    }
    let indent = width(label) + 2;
    for f in findings {
        let pre: String = shown.chars().take(f.char_start).collect();
        let marked: String = shown
            .chars()
            .skip(f.char_start)
            .take(f.char_end - f.char_start)
            .collect();
        out.push_str(&" ".repeat(indent + width(&pre)));
        out.push_str(&"^".repeat(width(&marked).max(1)));
        out.push_str(&format!(
            " {} {}/{}{} chars {}..{}\n",
            f.rule_id,
            f.category.as_str(),
            f.severity.as_str(),
            if f.severity == Severity::Critical {
                " (fatal)"
            } else {
                ""
            },
            f.char_start,
            f.char_end
        ));
        out.push_str(&format!("    {}\n", f.message));
        for s in &f.suggestions {
            out.push_str(&format!("    → {}\n", s.replacement));
        }
    }
    match rewrite {
        Ok(r) if r != text => out.push_str(&format!("  rewrite: {r}\n")),
        Ok(_) => {}
        Err(w) => out.push_str(&format!("  rewrite withheld: {w}\n")),
    }
    out
}
