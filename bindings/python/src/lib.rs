//! `huashu` for Python: a thin pyo3 layer over the `huashu` crate. Inputs are converted to Rust values while
//! the GIL is held, the work runs with the GIL released (`py.detach`), batches on rayon's pool.

mod batch;
mod types;

use std::path::PathBuf;
use std::sync::Arc;

use huashu::{LastExchange, Role, Ruleset, Turn};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyMapping, PySequence, PyString, PyTuple};

use batch::{PyScanResults, PyScoreResults};
use types::{PyCheckResult, PyFinding, PyReport, PyStructure, PySuggestion, findings_list};

create_exception!(
    huashu,
    HuashuError,
    PyException,
    "Base class of every error raised by huashu."
);
create_exception!(
    huashu,
    RulesetError,
    HuashuError,
    "A ruleset could not be found, read, parsed, validated or compiled."
);
create_exception!(
    huashu,
    InputError,
    HuashuError,
    "A turn or conversation given to huashu is malformed (unknown role, missing text, bad times)."
);
create_exception!(
    huashu,
    SessionClosedError,
    HuashuError,
    "The session was finished; start a new one."
);

fn ruleset_error(e: impl std::fmt::Display) -> PyErr {
    RulesetError::new_err(e.to_string())
}

/// The last exchange a turn is scanned after: the other party's previous turn and this party's own one.
fn exchange<'a>(previous: Option<&'a str>, own_previous: Option<&'a str>) -> LastExchange<'a> {
    LastExchange {
        previous,
        own_previous,
    }
}

pub(crate) fn parse_role(s: &str) -> PyResult<Role> {
    Role::parse(s).ok_or_else(|| {
        InputError::new_err(format!(
            "unknown role {s:?} (expected \"agent\", \"customer\" or \"system\")"
        ))
    })
}

/// A compiled ruleset. Immutable and thread-safe: build once, share.
#[pyclass(name = "Engine", module = "huashu", frozen)]
#[derive(Debug)]
pub struct PyEngine {
    pub(crate) inner: Arc<huashu::Engine>,
}

#[pymethods]
impl PyEngine {
    /// `Engine()` or `Engine("zh-CN")`: a bundled ruleset; `Engine("path/to/ruleset")`: a directory.
    /// `learned=True` adds the ruleset's learned models after the rules, as `huashu scan` does (docs/learned.md).
    #[new]
    #[pyo3(signature = (ruleset = None, learned = false))]
    fn new(py: Python<'_>, ruleset: Option<PathBuf>, learned: bool) -> PyResult<Self> {
        let name = match &ruleset {
            None => "zh-CN".to_string(),
            Some(p) => p
                .to_str()
                .ok_or_else(|| RulesetError::new_err(format!("ruleset path {p:?} is not UTF-8")))?
                .to_string(),
        };
        let engine = py.detach(|| {
            let rs = Ruleset::load(&name).map_err(|e| e.to_string())?;
            let engine = huashu::Engine::new(rs).map_err(|e| e.to_string())?;
            if !learned {
                return Ok(engine);
            }
            let models = huashu::LearnedModel::load_all(&name).map_err(|e| e.to_string())?;
            engine.with_learned(&models).map_err(|e| e.to_string())
        });
        match engine {
            Ok(e) => Ok(PyEngine { inner: Arc::new(e) }),
            Err(msg) => Err(ruleset_error(msg)),
        }
    }

    /// `name@version` of the loaded ruleset.
    #[getter]
    fn ruleset(&self) -> String {
        self.inner.ruleset().version_tag()
    }

    /// Names of the rulesets bundled in the library.
    #[staticmethod]
    fn bundled_rulesets() -> Vec<&'static str> {
        Ruleset::builtin_names()
    }

    /// Findings for one turn, in text order. `previous`: the other party's turn just before this one (for
    /// an agent turn, the customer's last words); rules with `only_after_turn_has` fire only with it.
    /// `own_previous`: this party's own turn that `previous` answered (the agent's question before the
    /// customer's yes); rules with `only_after_exchange_has` read it with `previous`, never without it.
    #[pyo3(signature = (text, role = "agent", previous = None, own_previous = None))]
    fn scan<'py>(
        &self,
        py: Python<'py>,
        text: &str,
        role: &str,
        previous: Option<&str>,
        own_previous: Option<&str>,
    ) -> PyResult<Bound<'py, PyList>> {
        let role = parse_role(role)?;
        let findings = self
            .inner
            .scan_turn(role, text, exchange(previous, own_previous), 0);
        findings_list(py, &findings)
    }

    /// The rules' matches in the turn that are no finding, each with what dropped it (`huashu eval`'s near
    /// misses): a list of dicts `{"rule_id", "category", "span", "char_start", "char_end", "matched",
    /// "dropped_by": {"reason", …}}`, for finding out why a rule did not fire.
    #[pyo3(signature = (text, role = "agent", previous = None, own_previous = None))]
    fn near_misses<'py>(
        &self,
        py: Python<'py>,
        text: &str,
        role: &str,
        previous: Option<&str>,
        own_previous: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let role = parse_role(role)?;
        let misses = self
            .inner
            .near_misses(role, text, exchange(previous, own_previous));
        let json = serde_json::to_string(&misses)
            .map_err(|e| InputError::new_err(format!("near misses: {e}")))?;
        py.import("json")?.call_method1("loads", (json,))
    }

    /// The compliant rewrite: every finding's safe suggestion applied, or None when the result would
    /// still be flagged (no rewrite is offered rather than a non-compliant one).
    #[pyo3(signature = (text, role = "agent"))]
    fn rewrite(&self, text: &str, role: &str) -> PyResult<Option<String>> {
        let role = parse_role(role)?;
        Ok(self.inner.rewrite(role, text))
    }

    /// Measures the ruleset on labelled turns (`huashu eval`): a path to a JSON-lines file or a list of
    /// dicts `{"id", "role", "text" | "ref", "expect": [categories]}`; `corpora` is where `ref`s point.
    /// Returns the CLI's JSON report as a dict.
    #[pyo3(signature = (labels, corpora = None))]
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        labels: &Bound<'py, PyAny>,
        corpora: Option<PathBuf>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let json = py.import("json")?;
        let text = if let Ok(path) = labels.extract::<PathBuf>() {
            std::fs::read_to_string(&path)
                .map_err(|e| InputError::new_err(format!("{}: {e}", path.display())))?
        } else {
            let mut lines = Vec::new();
            for item in labels.try_iter()? {
                let line: String = json.call_method1("dumps", (item?,))?.extract()?;
                lines.push(line);
            }
            lines.join("\n")
        };
        let mut refs = huashu::eval::CorpusRefs::new(corpora.as_deref());
        let turns = huashu::eval::read_labels(&text, &mut refs)
            .map_err(|e| InputError::new_err(e.to_string()))?;
        let engine = Arc::clone(&self.inner);
        let report = py.detach(|| huashu::eval::evaluate(&engine, &turns));
        json.call_method1("loads", (report.to_json(),))
    }

    /// Scores one conversation: a sequence of turns (`{"role", "text", "start_ms"?, "end_ms"?}` or
    /// `(role, text)`), or a mapping with `"turns"` (and optional `"id"`, `"agent"`).
    fn score(&self, py: Python<'_>, turns: &Bound<'_, PyAny>) -> PyResult<PyReport> {
        let conv = extract_conversation(turns, "turns")?;
        let engine = Arc::clone(&self.inner);
        let report = py.detach(move || engine.score(&conv.turns));
        Ok(PyReport {
            inner: report,
            id: conv.id,
            agent: conv.agent,
        })
    }

    /// A streaming session: push final turns as they come, revise drafts/ASR partials, read the report.
    fn session(&self) -> PySession {
        PySession {
            inner: Some(self.inner.session()),
        }
    }

    /// Scans many texts on all cores with the GIL released. `roles`: one role for all, or one per text.
    /// `threads` limits the worker count (default: all cores).
    #[pyo3(signature = (texts, roles = None, *, threads = None))]
    fn scan_many(
        &self,
        py: Python<'_>,
        texts: &Bound<'_, PyAny>,
        roles: Option<&Bound<'_, PyAny>>,
        threads: Option<usize>,
    ) -> PyResult<PyScanResults> {
        batch::scan_many(py, &self.inner, texts, roles, threads)
    }

    /// Scores many conversations on all cores with the GIL released.
    #[pyo3(signature = (conversations, *, threads = None))]
    fn score_many(
        &self,
        py: Python<'_>,
        conversations: &Bound<'_, PyAny>,
        threads: Option<usize>,
    ) -> PyResult<PyScoreResults> {
        batch::score_many(py, &self.inner, conversations, threads)
    }

    fn __repr__(&self) -> String {
        format!(
            "Engine({:?}, rules={})",
            self.inner.ruleset().version_tag(),
            self.inner.ruleset().rules.len()
        )
    }
}

/// One conversation scored as it happens.
#[pyclass(name = "Session", module = "huashu")]
#[derive(Debug)]
pub struct PySession {
    inner: Option<huashu::Session>,
}

impl PySession {
    fn get(&mut self) -> PyResult<&mut huashu::Session> {
        self.inner
            .as_mut()
            .ok_or_else(|| SessionClosedError::new_err("the session was finished"))
    }
}

#[pymethods]
impl PySession {
    /// A final turn: returns its findings (with `turn` set to its index).
    #[pyo3(signature = (text, role = "agent", *, start_ms = None, end_ms = None))]
    fn push<'py>(
        &mut self,
        py: Python<'py>,
        text: &str,
        role: &str,
        start_ms: Option<u64>,
        end_ms: Option<u64>,
    ) -> PyResult<Bound<'py, PyList>> {
        let turn = make_turn(
            parse_role(role)?,
            text.to_string(),
            start_ms,
            end_ms,
            "turn",
        )?;
        let update = self.get()?.push(turn);
        findings_list(py, &update.findings)
    }

    /// A draft or ASR partial of the turn in progress: its findings, without changing the score.
    #[pyo3(signature = (text, role = "agent"))]
    fn revise<'py>(
        &mut self,
        py: Python<'py>,
        text: &str,
        role: &str,
    ) -> PyResult<Bound<'py, PyList>> {
        let turn = Turn::new(parse_role(role)?, text);
        let update = self.get()?.revise(turn);
        findings_list(py, &update.findings)
    }

    /// Number of final turns so far.
    #[getter]
    fn turns(&mut self) -> PyResult<usize> {
        Ok(self.get()?.turns())
    }

    /// The report as it stands (the session goes on).
    fn report(&mut self) -> PyResult<PyReport> {
        let r = self.get()?.report();
        Ok(PyReport {
            inner: r,
            id: None,
            agent: None,
        })
    }

    /// Ends the session and returns the final report; later calls raise `SessionClosedError`.
    fn finish(&mut self) -> PyResult<PyReport> {
        let s = self
            .inner
            .take()
            .ok_or_else(|| SessionClosedError::new_err("the session was finished"))?;
        Ok(PyReport {
            inner: s.finish(),
            id: None,
            agent: None,
        })
    }

    fn __repr__(&self) -> String {
        match &self.inner {
            Some(s) => format!("Session(turns={})", s.turns()),
            None => "Session(finished)".to_string(),
        }
    }
}

fn make_turn(
    role: Role,
    text: String,
    start_ms: Option<u64>,
    end_ms: Option<u64>,
    at: &str,
) -> PyResult<Turn> {
    if let (Some(s), Some(e)) = (start_ms, end_ms) {
        if e < s {
            return Err(InputError::new_err(format!(
                "{at}: end_ms {e} is before start_ms {s}"
            )));
        }
    }
    Ok(Turn::new(role, text).with_optional_times(start_ms, end_ms))
}

/// A conversation taken from Python values.
pub(crate) struct Conv {
    pub id: Option<Py<PyAny>>,
    pub agent: Option<String>,
    pub turns: Vec<Turn>,
}

fn extract_ms(v: Option<Bound<'_, PyAny>>, at: &str, key: &str) -> PyResult<Option<u64>> {
    match v {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) => {
            if let Ok(n) = v.extract::<u64>() {
                return Ok(Some(n));
            }
            match v.extract::<f64>() {
                Ok(f) if f >= 0.0 && f.is_finite() => Ok(Some(f as u64)),
                _ => Err(InputError::new_err(format!(
                    "{at}: \"{key}\" must be a non-negative number of milliseconds"
                ))),
            }
        }
    }
}

fn extract_turn(item: &Bound<'_, PyAny>, at: &str) -> PyResult<Turn> {
    if let Ok(m) = item.cast::<PyMapping>() {
        let get = |k: &str| -> PyResult<Option<Bound<'_, PyAny>>> {
            if m.contains(k)? {
                Ok(Some(m.get_item(k)?))
            } else {
                Ok(None)
            }
        };
        let role: String = match get("role")? {
            Some(r) => r
                .extract()
                .map_err(|_| InputError::new_err(format!("{at}: \"role\" must be a string")))?,
            None => return Err(InputError::new_err(format!("{at}: missing \"role\""))),
        };
        let role = parse_role(&role).map_err(|e| InputError::new_err(format!("{at}: {e}")))?;
        let text: String = match get("text")? {
            Some(t) => t
                .extract()
                .map_err(|_| InputError::new_err(format!("{at}: \"text\" must be a string")))?,
            None => return Err(InputError::new_err(format!("{at}: missing \"text\""))),
        };
        let start = extract_ms(get("start_ms")?, at, "start_ms")?;
        let end = extract_ms(get("end_ms")?, at, "end_ms")?;
        return make_turn(role, text, start, end, at);
    }
    if let Ok(t) = item.cast::<PyTuple>() {
        if t.len() == 2 {
            let role: String = t.get_item(0)?.extract().map_err(|_| {
                InputError::new_err(format!("{at}: (role, text) needs a string role"))
            })?;
            let text: String = t.get_item(1)?.extract().map_err(|_| {
                InputError::new_err(format!("{at}: (role, text) needs a string text"))
            })?;
            let role = parse_role(&role).map_err(|e| InputError::new_err(format!("{at}: {e}")))?;
            return Ok(Turn::new(role, text));
        }
    }
    Err(PyTypeError::new_err(format!(
        "{at}: a turn is a mapping {{\"role\", \"text\", \"start_ms\"?, \"end_ms\"?}} or a (role, text) tuple, not {}",
        item.get_type().name()?
    )))
}

pub(crate) fn extract_conversation(obj: &Bound<'_, PyAny>, at: &str) -> PyResult<Conv> {
    let (id, agent, turns_obj) = if let Ok(d) = obj.cast::<PyDict>() {
        let turns = d
            .get_item("turns")?
            .ok_or_else(|| InputError::new_err(format!("{at}: missing \"turns\"")))?;
        let id = d
            .get_item("id")?
            .filter(|v| !v.is_none())
            .map(Bound::unbind);
        let agent = match d.get_item("agent")? {
            Some(a) if !a.is_none() => Some(a.str()?.to_string()),
            _ => None,
        };
        (id, agent, turns)
    } else {
        (None, None, obj.clone())
    };
    if turns_obj.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(format!(
            "{at}: expected a sequence of turns, not a string"
        )));
    }
    let seq = turns_obj
        .cast::<PySequence>()
        .map_err(|_| PyTypeError::new_err(format!("{at}: expected a sequence of turns")))?;
    let n = seq.len()?;
    let mut turns = Vec::with_capacity(n);
    for i in 0..n {
        turns.push(extract_turn(&seq.get_item(i)?, &format!("{at}[{i}]"))?);
    }
    Ok(Conv { id, agent, turns })
}

#[pymodule]
fn _huashu(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<PyEngine>()?;
    m.add_class::<PySession>()?;
    m.add_class::<PyFinding>()?;
    m.add_class::<PySuggestion>()?;
    m.add_class::<PyCheckResult>()?;
    m.add_class::<PyStructure>()?;
    m.add_class::<PyReport>()?;
    m.add_class::<PyScanResults>()?;
    m.add_class::<PyScoreResults>()?;
    m.add("HuashuError", py.get_type::<HuashuError>())?;
    m.add("RulesetError", py.get_type::<RulesetError>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("SessionClosedError", py.get_type::<SessionClosedError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
