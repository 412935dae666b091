//! `scan_many` / `score_many`: inputs copied into Rust while the GIL is held, the work on rayon's pool with the
//! GIL released, results kept as Rust values and turned into Python objects or columns on demand.

use std::sync::Arc;

use huashu::{Engine, Finding, Report, Role};
use pyo3::exceptions::{PyIndexError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use rayon::prelude::*;

use crate::types::{PyReport, finding_dict, findings_list, report_dict};
use crate::{Conv, HuashuError, InputError, extract_conversation, parse_role};

/// Runs `f` on a pool of `threads` workers (rayon's global pool, all cores, when None).
fn on_pool<T: Send>(threads: Option<usize>, f: impl FnOnce() -> T + Send) -> Result<T, String> {
    match threads {
        None => Ok(f()),
        Some(0) => Err("threads must be at least 1".into()),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map(|pool| pool.install(f))
            .map_err(|e| format!("cannot start {n} worker threads: {e}")),
    }
}

fn index(i: isize, len: usize) -> PyResult<usize> {
    let j = if i < 0 { i + len as isize } else { i };
    if j < 0 || j as usize >= len {
        Err(PyIndexError::new_err("index out of range"))
    } else {
        Ok(j as usize)
    }
}

/// Calls `huashu._arrow.<fun>(columns)`; pyarrow is imported there.
fn arrow<'py>(py: Python<'py>, fun: &str, cols: Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
    py.import("huashu._arrow")?.call_method1(fun, (cols,))
}

pub fn scan_many(
    py: Python<'_>,
    engine: &Arc<Engine>,
    texts: &Bound<'_, PyAny>,
    roles: Option<&Bound<'_, PyAny>>,
    threads: Option<usize>,
) -> PyResult<PyScanResults> {
    if texts.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(
            "scan_many takes a sequence of texts, not a string (use scan)",
        ));
    }
    let mut items: Vec<(Role, String)> = Vec::new();
    for (i, t) in texts.try_iter()?.enumerate() {
        let t = t?;
        let s: String = t.extract().map_err(|_| {
            PyTypeError::new_err(format!(
                "texts[{i}] must be a string, not {}",
                t.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ))
        })?;
        items.push((Role::Agent, s));
    }
    match roles {
        None => {}
        Some(r) if r.is_instance_of::<PyString>() => {
            let role = parse_role(&r.extract::<String>()?)?;
            for it in &mut items {
                it.0 = role;
            }
        }
        Some(r) => {
            let mut n = 0;
            for (i, role) in r.try_iter()?.enumerate() {
                let role: String = role?
                    .extract()
                    .map_err(|_| PyTypeError::new_err(format!("roles[{i}] must be a string")))?;
                let role = parse_role(&role)
                    .map_err(|e| InputError::new_err(format!("roles[{i}]: {e}")))?;
                if let Some(it) = items.get_mut(i) {
                    it.0 = role;
                }
                n += 1;
            }
            if n != items.len() {
                return Err(InputError::new_err(format!(
                    "{} roles for {} texts: give one role for all or one per text",
                    n,
                    items.len()
                )));
            }
        }
    }
    let engine = Arc::clone(engine);
    let findings = py
        .detach(|| {
            on_pool(threads, || {
                items
                    .par_iter()
                    .map(|(role, text)| {
                        let f = engine.check(*role, text);
                        let r = engine.compliant_rewrite(*role, text, &f).ok();
                        (f, r)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .map_err(HuashuError::new_err)?;
    let (findings, rewrites) = findings.into_iter().unzip();
    Ok(PyScanResults { findings, rewrites })
}

/// Results of `scan_many`: a sequence of finding lists (one per text), and columns for data frames.
#[pyclass(name = "ScanResults", module = "huashu", frozen)]
#[derive(Debug)]
pub struct PyScanResults {
    findings: Vec<Vec<Finding>>,
    /// The compliant rewrite of each text, None where none is offered.
    rewrites: Vec<Option<String>>,
}

#[pymethods]
impl PyScanResults {
    fn __len__(&self) -> usize {
        self.findings.len()
    }

    fn __getitem__<'py>(&self, py: Python<'py>, i: isize) -> PyResult<Bound<'py, PyList>> {
        let i = index(i, self.findings.len())?;
        findings_list(py, &self.findings[i])
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let all = PyList::empty(py);
        for fs in &self.findings {
            all.append(findings_list(py, fs)?)?;
        }
        Ok(all.try_iter()?.into_any())
    }

    /// Number of findings per text.
    #[getter]
    fn counts(&self) -> Vec<usize> {
        self.findings.iter().map(Vec::len).collect()
    }

    /// Each text's compliant rewrite, None where no rewrite free of findings exists (what
    /// `Engine.rewrite` gives).
    #[getter]
    fn rewrites(&self) -> Vec<Option<String>> {
        self.rewrites.clone()
    }

    /// One dict per text: `{"findings": [...], "rewrite": "..."}` (the CLI's scan line without `id`).
    fn to_dicts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        for (fs, rewrite) in self.findings.iter().zip(&self.rewrites) {
            let d = PyDict::new(py);
            let l = PyList::empty(py);
            for f in fs {
                l.append(finding_dict(py, f)?)?;
            }
            d.set_item("findings", l)?;
            d.set_item("rewrite", rewrite)?;
            out.append(d)?;
        }
        Ok(out)
    }

    /// One row per finding: `index` (of the text), `rule`, `category`, `severity`, `start`, `end`,
    /// `byte_start`, `byte_end`, `matched`, `message`, `suggestion` (first, or None).
    fn to_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        finding_columns(
            py,
            self.findings
                .iter()
                .enumerate()
                .map(|(i, fs)| (i, None, fs.as_slice())),
        )
    }

    /// `to_columns()` as a `pyarrow.Table` (needs pyarrow).
    fn to_arrow<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        arrow(py, "scan_table", self.to_columns(py)?)
    }

    fn __repr__(&self) -> String {
        format!(
            "ScanResults(texts={}, findings={})",
            self.findings.len(),
            self.findings.iter().map(Vec::len).sum::<usize>()
        )
    }
}

fn finding_columns<'py, 'a>(
    py: Python<'py>,
    rows: impl Iterator<Item = (usize, Option<&'a Option<Py<PyAny>>>, &'a [Finding])>,
) -> PyResult<Bound<'py, PyDict>> {
    let mut idx = Vec::new();
    let ids = PyList::empty(py);
    let mut with_ids = false;
    let (mut turn, mut rule, mut cat, mut sev) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut start, mut end, mut bs, mut be) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut matched, mut message, mut sugg) = (Vec::new(), Vec::new(), Vec::new());
    for (i, id, fs) in rows {
        for f in fs {
            idx.push(i);
            if let Some(id) = id {
                with_ids = true;
                match id {
                    Some(id) => ids.append(id.bind(py))?,
                    None => ids.append(py.None())?,
                }
            }
            turn.push(f.turn_index);
            rule.push(&*f.rule_id);
            cat.push(f.category.as_str());
            sev.push(f.severity.as_str());
            start.push(f.char_start);
            end.push(f.char_end);
            bs.push(f.span.start);
            be.push(f.span.end);
            matched.push(f.matched.as_str());
            message.push(f.message.as_str());
            sugg.push(f.suggestions.first().map(|s| &*s.replacement));
        }
    }
    let d = PyDict::new(py);
    if with_ids {
        d.set_item("conversation", idx)?;
        d.set_item("id", ids)?;
        d.set_item("turn", turn)?;
    } else {
        d.set_item("index", idx)?;
    }
    d.set_item("rule", rule)?;
    d.set_item("category", cat)?;
    d.set_item("severity", sev)?;
    d.set_item("start", start)?;
    d.set_item("end", end)?;
    d.set_item("byte_start", bs)?;
    d.set_item("byte_end", be)?;
    d.set_item("matched", matched)?;
    d.set_item("message", message)?;
    d.set_item("suggestion", sugg)?;
    Ok(d)
}

pub fn score_many(
    py: Python<'_>,
    engine: &Arc<Engine>,
    conversations: &Bound<'_, PyAny>,
    threads: Option<usize>,
) -> PyResult<PyScoreResults> {
    let mut convs: Vec<Conv> = Vec::new();
    for (i, c) in conversations.try_iter()?.enumerate() {
        convs.push(extract_conversation(&c?, &format!("conversations[{i}]"))?);
    }
    let engine = Arc::clone(engine);
    let turns: Vec<&[huashu::Turn]> = convs.iter().map(|c| c.turns.as_slice()).collect();
    let reports = py
        .detach(|| {
            on_pool(threads, || {
                turns
                    .par_iter()
                    .map(|t| engine.score(t))
                    .collect::<Vec<_>>()
            })
        })
        .map_err(HuashuError::new_err)?;
    let (ids, agents) = convs.into_iter().map(|c| (c.id, c.agent)).unzip();
    Ok(PyScoreResults {
        reports,
        ids,
        agents,
    })
}

/// Results of `score_many`: a sequence of `Report`s, and columns for data frames.
#[pyclass(name = "ScoreResults", module = "huashu", frozen)]
#[derive(Debug)]
pub struct PyScoreResults {
    reports: Vec<Report>,
    ids: Vec<Option<Py<PyAny>>>,
    agents: Vec<Option<String>>,
}

impl PyScoreResults {
    fn report(&self, py: Python<'_>, i: usize) -> PyReport {
        PyReport {
            inner: self.reports[i].clone(),
            id: self.ids[i].as_ref().map(|x| x.clone_ref(py)),
            agent: self.agents[i].clone(),
        }
    }
}

#[pymethods]
impl PyScoreResults {
    fn __len__(&self) -> usize {
        self.reports.len()
    }

    fn __getitem__(&self, py: Python<'_>, i: isize) -> PyResult<PyReport> {
        let i = index(i, self.reports.len())?;
        Ok(self.report(py, i))
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let all = PyList::empty(py);
        for i in 0..self.reports.len() {
            all.append(self.report(py, i))?;
        }
        Ok(all.try_iter()?.into_any())
    }

    /// One dict per conversation, as `huashu score` writes it.
    fn to_dicts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        for ((r, id), agent) in self.reports.iter().zip(&self.ids).zip(&self.agents) {
            out.append(report_dict(py, r, id.as_ref(), agent.as_deref())?)?;
        }
        Ok(out)
    }

    /// One row per conversation: `id`, `agent`, `score`, `passed`, `fatal`, `fatal_reason`,
    /// `structure_score`, `complaints`, `empathy`, `solution`, `commitment`, `in_order`, `turns`,
    /// `findings_total`, `rules` (ids of the findings kept, in order).
    fn to_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let ids = PyList::empty(py);
        for id in &self.ids {
            match id {
                Some(id) => ids.append(id.bind(py))?,
                None => ids.append(py.None())?,
            }
        }
        let r = &self.reports;
        let d = PyDict::new(py);
        d.set_item("id", ids)?;
        d.set_item("agent", self.agents.clone())?;
        d.set_item("score", r.iter().map(|r| r.score).collect::<Vec<_>>())?;
        d.set_item("passed", r.iter().map(|r| r.passed).collect::<Vec<_>>())?;
        d.set_item("fatal", r.iter().map(|r| r.fatal).collect::<Vec<_>>())?;
        d.set_item(
            "fatal_reason",
            r.iter()
                .map(|r| r.fatal_reason.as_deref())
                .collect::<Vec<_>>(),
        )?;
        let st = |f: fn(&huashu::Structure) -> bool| {
            r.iter().map(|r| f(&r.structure)).collect::<Vec<_>>()
        };
        d.set_item(
            "structure_score",
            r.iter().map(|r| r.structure.score).collect::<Vec<_>>(),
        )?;
        d.set_item(
            "complaints",
            r.iter().map(|r| r.structure.complaints).collect::<Vec<_>>(),
        )?;
        d.set_item("empathy", st(|s| s.empathy))?;
        d.set_item("solution", st(|s| s.solution))?;
        d.set_item("commitment", st(|s| s.commitment))?;
        d.set_item("in_order", st(|s| s.in_order))?;
        d.set_item("turns", r.iter().map(|r| r.turns).collect::<Vec<_>>())?;
        d.set_item(
            "findings_total",
            r.iter().map(|r| r.findings_total).collect::<Vec<_>>(),
        )?;
        d.set_item(
            "rules",
            r.iter()
                .map(|r| r.findings.iter().map(|f| &*f.rule_id).collect::<Vec<_>>())
                .collect::<Vec<_>>(),
        )?;
        Ok(d)
    }

    /// One row per finding kept: `conversation` (index), `id`, `turn`, then the finding columns of
    /// `ScanResults.to_columns()`.
    fn findings_to_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        finding_columns(
            py,
            self.reports
                .iter()
                .zip(&self.ids)
                .enumerate()
                .map(|(i, (r, id))| (i, Some(id), r.findings.as_slice())),
        )
    }

    /// `to_columns()` as a `pyarrow.Table` (needs pyarrow).
    fn to_arrow<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        arrow(py, "score_table", self.to_columns(py)?)
    }

    /// `findings_to_columns()` as a `pyarrow.Table` (needs pyarrow).
    fn findings_to_arrow<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        arrow(py, "findings_table", self.findings_to_columns(py)?)
    }

    fn __repr__(&self) -> String {
        format!("ScoreResults(conversations={})", self.reports.len())
    }
}
