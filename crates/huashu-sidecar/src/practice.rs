//! Practice drills over HTTP (the console's Practice tab): list the drills, start an attempt, post replies one
//! by one and get the same feedback as `huashu drill`. Attempts live in memory, bounded (`max_sessions`) and
//! dropped after `idle_timeout_s` without a reply.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use huashu::drill::DrillRun;
use huashu::rules::Drill;
use serde_json::{Value, json};

use crate::engines::Engines;
use crate::protocol::{ProtoError, code};

#[derive(Debug)]
struct Attempt {
    run: DrillRun,
    last: Instant,
}

/// The bundled drills and the attempts in progress.
#[derive(Debug)]
pub struct Practice {
    drills: Vec<Arc<Drill>>,
    attempts: Mutex<HashMap<String, Attempt>>,
    max: usize,
    idle: Duration,
    next: Mutex<u64>,
}

impl Practice {
    pub fn new(max: usize, idle: Duration) -> Practice {
        let drills = Drill::builtin_all()
            .unwrap_or_default()
            .into_iter()
            .map(Arc::new)
            .collect();
        Practice {
            drills,
            attempts: Mutex::new(HashMap::new()),
            max,
            idle,
            next: Mutex::new(0),
        }
    }

    fn find(&self, name: &str) -> Result<&Arc<Drill>, ProtoError> {
        self.drills
            .iter()
            .find(|d| d.id == name || d.name == name)
            .ok_or_else(|| ProtoError::new(code::NOT_FOUND, format!("no drill named {name:?}")))
    }

    /// `GET /v1/drills`: one summary per drill.
    pub fn list(&self) -> Value {
        Value::Array(
            self.drills
                .iter()
                .map(|d| {
                    json!({"id": d.id, "name": d.name, "ruleset": d.ruleset_name(), "scenario": d.scenario,
                           "persona": d.persona, "pass_mark": d.pass_mark, "steps": d.steps.len()})
                })
                .collect(),
        )
    }

    /// `GET /v1/drills/{name}`: the whole drill as written.
    ///
    /// # Errors
    /// No such drill.
    pub fn get(&self, name: &str) -> Result<Value, ProtoError> {
        let d = self.find(name)?;
        Ok(serde_json::to_value(d.as_ref()).unwrap_or(Value::Null))
    }

    /// `POST /v1/drills/{name}/attempts`: a new attempt and the customer's first line.
    ///
    /// # Errors
    /// No such drill, its ruleset cannot be loaded, or too many attempts in progress.
    pub fn start(&self, engines: &Engines, name: &str) -> Result<Value, ProtoError> {
        let drill = Arc::clone(self.find(name)?);
        let (_, loaded) = engines
            .choose(Some(drill.ruleset_name()))
            .map_err(|e| ProtoError::new(code::UNKNOWN_RULESET, e))?;
        let run = DrillRun::new(Arc::clone(&drill), Arc::clone(&loaded.engine));
        let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        attempts.retain(|_, a| now.duration_since(a.last) < self.idle);
        if attempts.len() >= self.max {
            return Err(ProtoError::new(
                code::CAPACITY,
                format!("at capacity ({} attempts); try again later", self.max),
            ));
        }
        let id = {
            let mut n = self.next.lock().unwrap_or_else(|p| p.into_inner());
            *n += 1;
            let mut rand = [0u8; 4];
            let _ = getrandom::fill(&mut rand);
            format!("a{}-{:08x}", *n, u32::from_le_bytes(rand))
        };
        let body = json!({"attempt": id, "drill": drill.id, "name": drill.name, "ruleset": loaded.version,
            "scenario": drill.scenario, "persona": drill.persona, "pass_mark": drill.pass_mark,
            "steps": drill.steps.len(), "step": 0, "customer": run.prompt()});
        attempts.insert(id, Attempt { run, last: now });
        Ok(body)
    }

    /// `POST /v1/drills/{name}/attempts/{id}/replies`: judge one reply; the summary comes with the last one.
    ///
    /// # Errors
    /// No such attempt (or it belongs to another drill), or the drill is already finished.
    pub fn reply(&self, name: &str, id: &str, text: &str) -> Result<Value, ProtoError> {
        let drill = self.find(name)?;
        let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        let a = attempts
            .get_mut(id)
            .filter(|a| a.run.drill().id == drill.id)
            .ok_or_else(|| ProtoError::new(code::NOT_FOUND, "no such attempt"))?;
        a.last = Instant::now();
        let fb = a
            .run
            .reply(text)
            .map_err(|e| ProtoError::new(code::CONFLICT, e.to_string()))?;
        let mut body = json!({"attempt": id, "feedback": fb, "customer": a.run.prompt()});
        if a.run.is_done() {
            body["summary"] = serde_json::to_value(a.run.summary()).unwrap_or(Value::Null);
        }
        Ok(body)
    }

    /// `GET /v1/drills/{name}/attempts/{id}`: the verdict so far.
    ///
    /// # Errors
    /// No such attempt.
    pub fn summary(&self, name: &str, id: &str) -> Result<Value, ProtoError> {
        let drill = self.find(name)?;
        let attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        let a = attempts
            .get(id)
            .filter(|a| a.run.drill().id == drill.id)
            .ok_or_else(|| ProtoError::new(code::NOT_FOUND, "no such attempt"))?;
        Ok(
            json!({"attempt": id, "step": a.run.step(), "customer": a.run.prompt(),
                  "done": a.run.is_done(), "summary": a.run.summary()}),
        )
    }
}
