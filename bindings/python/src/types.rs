//! Frozen result objects: `Finding`, `Suggestion`, `CheckResult`, `Structure`, `Report`. Each keeps the Rust
//! value and builds Python values on access; `to_dict()` gives the CLI's JSON shape (ARCHITECTURE.md,
//! "Output contract").

use huashu::{Applicability, CheckResult, Finding, Report, Structure, Suggestion};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

/// Exhaustive by construction (`Applicability::as_str` matches every variant): a new kind of suggestion gets
/// its own name here instead of silently passing for "review".
fn applicability(a: Applicability) -> &'static str {
    a.as_str()
}

/// Character offset of a byte offset in `text` (suggestion spans are bytes in the core).
fn char_offset(text: &str, byte: usize) -> usize {
    text.get(..byte).map_or(0, |s| s.chars().count())
}

/// A compliant replacement for a finding's span.
#[pyclass(name = "Suggestion", module = "huashu", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub struct PySuggestion {
    /// Characters of the original text this replaces.
    #[pyo3(get)]
    pub start: usize,
    #[pyo3(get)]
    pub end: usize,
    #[pyo3(get)]
    pub replacement: String,
    /// "safe" (applied by `rewrite`) or "review".
    #[pyo3(get)]
    pub applicability: &'static str,
}

impl PySuggestion {
    fn from_core(s: &Suggestion, f: &Finding) -> PySuggestion {
        // A suggestion replaces its finding's span; map its bytes onto the finding's characters.
        let (start, end) = if s.span == f.span {
            (f.char_start, f.char_end)
        } else {
            let base = f.span.start;
            let rel = |b: usize| {
                f.char_start + char_offset(&f.matched, b.saturating_sub(base).min(f.matched.len()))
            };
            (rel(s.span.start), rel(s.span.end))
        };
        PySuggestion {
            start,
            end,
            replacement: s.replacement.to_string(),
            applicability: applicability(s.applicability),
        }
    }
}

#[pymethods]
impl PySuggestion {
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("start", self.start)?;
        d.set_item("end", self.end)?;
        d.set_item("replacement", &self.replacement)?;
        d.set_item("applicability", self.applicability)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "Suggestion(start={}, end={}, replacement={:?}, applicability={:?})",
            self.start, self.end, self.replacement, self.applicability
        )
    }
}

/// A rule that fired on a turn. `text[f.start:f.end] == f.matched`.
#[pyclass(name = "Finding", module = "huashu", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub struct PyFinding {
    pub inner: Finding,
}

impl PyFinding {
    pub fn new(f: Finding) -> PyFinding {
        PyFinding { inner: f }
    }
}

pub fn findings_list<'py>(py: Python<'py>, fs: &[Finding]) -> PyResult<Bound<'py, PyList>> {
    PyList::new(py, fs.iter().map(|f| PyFinding::new(f.clone())))
}

/// The finding as the CLI writes it (`turn` added: 0 for a single scanned text).
pub fn finding_dict<'py>(py: Python<'py>, f: &Finding) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("turn", f.turn_index)?;
    d.set_item("rule", &*f.rule_id)?;
    d.set_item("category", f.category.as_str())?;
    d.set_item("severity", f.severity.as_str())?;
    d.set_item("start", f.char_start)?;
    d.set_item("end", f.char_end)?;
    d.set_item("byte_start", f.span.start)?;
    d.set_item("byte_end", f.span.end)?;
    d.set_item("matched", &f.matched)?;
    d.set_item("message", &f.message)?;
    let sugg: Vec<&str> = f.suggestions.iter().map(|s| &*s.replacement).collect();
    d.set_item("suggestions", sugg)?;
    Ok(d)
}

#[pymethods]
impl PyFinding {
    /// Rule id, e.g. "F001".
    #[getter]
    fn rule(&self) -> &str {
        &self.inner.rule_id
    }
    #[getter]
    fn category(&self) -> &'static str {
        self.inner.category.as_str()
    }
    #[getter]
    fn severity(&self) -> &'static str {
        self.inner.severity.as_str()
    }
    /// Index of the turn in its conversation (0 for a single scanned text).
    #[getter]
    fn turn(&self) -> usize {
        self.inner.turn_index
    }
    /// Character offsets into the original text.
    #[getter]
    fn start(&self) -> usize {
        self.inner.char_start
    }
    #[getter]
    fn end(&self) -> usize {
        self.inner.char_end
    }
    /// UTF-8 byte offsets into the original text.
    #[getter]
    fn byte_start(&self) -> usize {
        self.inner.span.start
    }
    #[getter]
    fn byte_end(&self) -> usize {
        self.inner.span.end
    }
    #[getter]
    fn matched(&self) -> &str {
        &self.inner.matched
    }
    #[getter]
    fn message(&self) -> &str {
        &self.inner.message
    }
    #[getter]
    fn suggestions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(
            py,
            self.inner
                .suggestions
                .iter()
                .map(|s| PySuggestion::from_core(s, &self.inner)),
        )
    }
    /// True for a critical finding (a fatal item on the scorecard).
    #[getter]
    fn fatal(&self) -> bool {
        self.inner.severity == huashu::Severity::Critical
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        finding_dict(py, &self.inner)
    }

    fn __repr__(&self) -> String {
        let f = &self.inner;
        format!(
            "Finding(rule={:?}, category={:?}, severity={:?}, start={}, end={}, matched={:?})",
            f.rule_id,
            f.category.as_str(),
            f.severity.as_str(),
            f.char_start,
            f.char_end,
            f.matched
        )
    }
}

/// One scorecard item as judged.
#[pyclass(name = "CheckResult", module = "huashu", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub struct PyCheckResult {
    pub inner: CheckResult,
}

pub fn check_dict<'py>(py: Python<'py>, c: &CheckResult) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("id", &c.id)?;
    d.set_item("passed", c.passed)?;
    d.set_item("points", c.points)?;
    d.set_item("max", c.max)?;
    d.set_item("detail", &c.detail)?;
    if let Some(t) = c.turn {
        d.set_item("turn", t)?;
    }
    if let Some(t) = &c.tip {
        d.set_item("tip", t)?;
    }
    d.set_item("fatal", c.fatal)?;
    Ok(d)
}

#[pymethods]
impl PyCheckResult {
    #[getter]
    fn id(&self) -> &str {
        &self.inner.id
    }
    #[getter]
    fn passed(&self) -> bool {
        self.inner.passed
    }
    /// Points earned out of `max` (negative for the compliance deduction).
    #[getter]
    fn points(&self) -> f64 {
        self.inner.points
    }
    #[getter]
    fn max(&self) -> u32 {
        self.inner.max
    }
    #[getter]
    fn detail(&self) -> &str {
        &self.inner.detail
    }
    #[getter]
    fn turn(&self) -> Option<usize> {
        self.inner.turn
    }
    #[getter]
    fn tip(&self) -> Option<&str> {
        self.inner.tip.as_deref()
    }
    #[getter]
    fn fatal(&self) -> bool {
        self.inner.fatal
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        check_dict(py, &self.inner)
    }
    fn __repr__(&self) -> String {
        let c = &self.inner;
        format!(
            "CheckResult(id={:?}, passed={}, points={}, max={})",
            c.id,
            if c.passed { "True" } else { "False" },
            c.points,
            c.max
        )
    }
}

/// Empathy → solution → commitment after customer complaints.
#[pyclass(name = "Structure", module = "huashu", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub struct PyStructure {
    pub inner: Structure,
}

pub fn structure_dict<'py>(py: Python<'py>, s: &Structure) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("score", s.score)?;
    d.set_item("complaints", s.complaints)?;
    d.set_item("empathy", s.empathy)?;
    d.set_item("solution", s.solution)?;
    d.set_item("commitment", s.commitment)?;
    d.set_item("in_order", s.in_order)?;
    d.set_item("prompt", s.prompt)?;
    d.set_item("evidence", &s.evidence)?;
    d.set_item("missing", &s.missing)?;
    Ok(d)
}

#[pymethods]
impl PyStructure {
    /// 0–100, averaged over complaints; 100 when there was no complaint.
    #[getter]
    fn score(&self) -> u32 {
        self.inner.score
    }
    #[getter]
    fn complaints(&self) -> usize {
        self.inner.complaints
    }
    #[getter]
    fn empathy(&self) -> bool {
        self.inner.empathy
    }
    #[getter]
    fn solution(&self) -> bool {
        self.inner.solution
    }
    #[getter]
    fn commitment(&self) -> bool {
        self.inner.commitment
    }
    #[getter]
    fn in_order(&self) -> bool {
        self.inner.in_order
    }
    #[getter]
    fn prompt(&self) -> bool {
        self.inner.prompt
    }
    #[getter]
    fn evidence<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.inner.evidence)
    }
    #[getter]
    fn missing<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.inner.missing)
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        structure_dict(py, &self.inner)
    }
    fn __repr__(&self) -> String {
        let s = &self.inner;
        format!(
            "Structure(score={}, complaints={}, empathy={}, solution={}, commitment={}, in_order={})",
            s.score,
            s.complaints,
            py_bool(s.empathy),
            py_bool(s.solution),
            py_bool(s.commitment),
            py_bool(s.in_order)
        )
    }
}

fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// A conversation's scorecard. `id` and `agent` are carried from the input when given.
#[pyclass(name = "Report", module = "huashu", frozen)]
#[derive(Debug)]
pub struct PyReport {
    pub inner: Report,
    pub id: Option<Py<PyAny>>,
    pub agent: Option<String>,
}

/// The report as `huashu score` writes it.
pub fn report_dict<'py>(
    py: Python<'py>,
    r: &Report,
    id: Option<&Py<PyAny>>,
    agent: Option<&str>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    match id {
        Some(id) => d.set_item("id", id.bind(py))?,
        None => d.set_item("id", py.None())?,
    }
    if let Some(a) = agent {
        d.set_item("agent", a)?;
    }
    d.set_item("ruleset", &r.ruleset)?;
    d.set_item("score", r.score)?;
    d.set_item("passed", r.passed)?;
    d.set_item("fatal", r.fatal)?;
    if let Some(reason) = &r.fatal_reason {
        d.set_item("fatal_reason", reason)?;
    }
    d.set_item("structure", structure_dict(py, &r.structure)?)?;
    let checks = PyList::empty(py);
    for c in &r.checks {
        checks.append(check_dict(py, c)?)?;
    }
    d.set_item("checks", checks)?;
    let findings = PyList::empty(py);
    for f in &r.findings {
        findings.append(finding_dict(py, f)?)?;
    }
    d.set_item("findings", findings)?;
    d.set_item("findings_total", r.findings_total)?;
    Ok(d)
}

#[pymethods]
impl PyReport {
    #[getter]
    fn id<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        match &self.id {
            Some(id) => id.bind(py).clone(),
            None => py.None().into_bound(py),
        }
    }
    #[getter]
    fn agent(&self) -> Option<&str> {
        self.agent.as_deref()
    }
    /// `name@version` of the ruleset that scored it.
    #[getter]
    fn ruleset(&self) -> &str {
        &self.inner.ruleset
    }
    /// 0–100.
    #[getter]
    fn score(&self) -> u32 {
        self.inner.score
    }
    #[getter]
    fn passed(&self) -> bool {
        self.inner.passed
    }
    #[getter]
    fn fatal(&self) -> bool {
        self.inner.fatal
    }
    #[getter]
    fn fatal_reason(&self) -> Option<&str> {
        self.inner.fatal_reason.as_deref()
    }
    /// Number of final turns scored.
    #[getter]
    fn turns(&self) -> usize {
        self.inner.turns
    }
    #[getter]
    fn structure(&self) -> PyStructure {
        PyStructure {
            inner: self.inner.structure.clone(),
        }
    }
    #[getter]
    fn checks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(
            py,
            self.inner
                .checks
                .iter()
                .map(|c| PyCheckResult { inner: c.clone() }),
        )
    }
    /// Findings kept verbatim (at most 500; `findings_total` counts all).
    #[getter]
    fn findings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(
            py,
            self.inner
                .findings
                .iter()
                .map(|f| PyFinding::new(f.clone())),
        )
    }
    #[getter]
    fn findings_total(&self) -> usize {
        self.inner.findings_total
    }
    /// One coaching tip per failed check: (check id, tip).
    fn tips(&self) -> Vec<(String, String)> {
        self.inner
            .tips()
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        report_dict(py, &self.inner, self.id.as_ref(), self.agent.as_deref())
    }
    fn __repr__(&self) -> String {
        let r = &self.inner;
        format!(
            "Report(score={}, passed={}, fatal={}, turns={}, findings_total={})",
            r.score,
            py_bool(r.passed),
            py_bool(r.fatal),
            r.turns,
            r.findings_total
        )
    }
}
