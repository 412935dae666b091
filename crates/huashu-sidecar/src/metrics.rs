//! Prometheus metrics (`/metrics`): sessions, utterances, findings by rule, latency histograms, reloads.

use std::sync::OnceLock;
use std::time::Duration;

use huashu::Finding;
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::protocol::Source;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

const BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0,
];

/// Installs the global recorder once per process (tests start several servers in one process).
pub fn install() {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
            .ok()?
            .build_recorder();
        let handle = recorder.handle();
        metrics::set_global_recorder(recorder).ok()?;
        describe();
        Some(handle)
    });
}

fn describe() {
    metrics::describe_gauge!("huashu_sessions_active", "conversations in progress");
    metrics::describe_counter!("huashu_sessions_total", "conversations started");
    metrics::describe_gauge!("huashu_connections_active", "open WebSocket connections");
    metrics::describe_counter!(
        "huashu_utterances_total",
        "utterances and drafts checked, by final and source"
    );
    metrics::describe_counter!(
        "huashu_utterances_received_total",
        "final utterances read off WebSocket connections (each is answered with an ack or refused with an error)"
    );
    metrics::describe_counter!("huashu_findings_total", "findings by rule");
    metrics::describe_histogram!(
        "huashu_turn_seconds",
        "time to check one utterance and build its messages"
    );
    metrics::describe_histogram!(
        "huashu_hint_latency_seconds",
        "WebSocket: from receiving an utterance to queueing its last message"
    );
    metrics::describe_counter!(
        "huashu_partials_superseded_total",
        "partial utterances or drafts replaced by a newer one before being checked"
    );
    metrics::describe_counter!(
        "huashu_rejected_total",
        "connections or sessions refused, by reason"
    );
    metrics::describe_counter!("huashu_errors_total", "protocol errors sent, by code");
    metrics::describe_counter!(
        "huashu_ruleset_reloads_total",
        "ruleset reload attempts, by result"
    );
    metrics::describe_gauge!(
        "huashu_ruleset_reload_failed",
        "1 while the last reload failed (the previous version keeps serving)"
    );
    metrics::describe_gauge!(
        "huashu_ruleset_retired_engines",
        "engines replaced by a reload and still held (by the sessions that started on them); 0 once those end"
    );
    metrics::describe_counter!(
        "huashu_integration_webhooks_total",
        "integration webhook deliveries, by platform and outcome (checked, fed, ignored, refused…)"
    );
    metrics::describe_counter!(
        "huashu_integration_notes_total",
        "notes posted back to a platform, by result (sent, failed after retries, dropped when too many pending)"
    );
    metrics::describe_counter!(
        "huashu_integration_note_retries_total",
        "note requests retried after a network error, a timeout, 429 or 5xx"
    );
    metrics::describe_gauge!(
        "huashu_process_resident_bytes",
        "resident memory of the daemon"
    );
    metrics::describe_gauge!(
        "huashu_heap_in_use_bytes",
        "malloc heap held by the daemon (glibc mallinfo2: allocated, mmapped chunks included)"
    );
    metrics::describe_gauge!(
        "huashu_heap_free_bytes",
        "malloc heap free inside its arenas (kept by malloc, not returned): RSS growth with this rising and in-use flat is fragmentation, not a leak"
    );
    metrics::describe_gauge!(
        "huashu_heap_arena_bytes",
        "bytes of malloc's arenas, free parts included"
    );
}

/// The text exposition of every metric.
pub fn render() -> String {
    if let Ok(statm) = std::fs::read_to_string("/proc/self/statm") {
        if let Some(pages) = statm
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<f64>().ok())
        {
            gauge!("huashu_process_resident_bytes").set(pages * 4096.0);
        }
    }
    if let Some(heap) = crate::memory::heap() {
        gauge!("huashu_heap_in_use_bytes").set(heap.in_use as f64);
        gauge!("huashu_heap_free_bytes").set(heap.free as f64);
        gauge!("huashu_heap_arena_bytes").set(heap.arenas as f64);
    }
    match HANDLE.get() {
        Some(Some(h)) => {
            h.run_upkeep();
            h.render()
        }
        _ => String::new(),
    }
}

/// Moves the histograms' recorded samples into their buckets. The recorder keeps every sample until this
/// runs (`build_recorder` starts no upkeep task of its own), so a daemon nobody scrapes would otherwise hold
/// two samples per utterance for good: the reaper's tick calls it.
pub fn upkeep() {
    if let Some(Some(h)) = HANDLE.get() {
        h.run_upkeep();
    }
}

pub fn turn(is_final: bool, source: Source, findings: &[Finding], took: Duration) {
    let source = match source {
        Source::Utterance => "utterance",
        Source::Draft => "draft",
    };
    counter!("huashu_utterances_total", "final" => if is_final { "true" } else { "false" }, "source" => source)
        .increment(1);
    for f in findings {
        counter!("huashu_findings_total", "rule" => f.rule_id.clone()).increment(1);
    }
    histogram!("huashu_turn_seconds").record(took.as_secs_f64());
}

/// A final utterance read off a WebSocket: from here on it is owed an `ack` or an `error`.
pub fn received() {
    counter!("huashu_utterances_received_total").increment(1);
}

pub fn hint_latency(took: Duration) {
    histogram!("huashu_hint_latency_seconds").record(took.as_secs_f64());
}

pub fn session_started() {
    counter!("huashu_sessions_total").increment(1);
    gauge!("huashu_sessions_active").increment(1.0);
}

pub fn session_ended() {
    gauge!("huashu_sessions_active").decrement(1.0);
}

pub fn connection(delta: f64) {
    gauge!("huashu_connections_active").increment(delta);
}

pub fn superseded() {
    counter!("huashu_partials_superseded_total").increment(1);
}

pub fn rejected(reason: &'static str) {
    counter!("huashu_rejected_total", "reason" => reason).increment(1);
}

pub fn error(code: &'static str) {
    counter!("huashu_errors_total", "code" => code).increment(1);
}

pub fn reload(ok: bool) {
    counter!("huashu_ruleset_reloads_total", "result" => if ok { "ok" } else { "error" })
        .increment(1);
    gauge!("huashu_ruleset_reload_failed").set(if ok { 0.0 } else { 1.0 });
}

/// Engines replaced by a reload that something still holds: each is a whole engine's memory.
pub fn retired_engines(held: usize) {
    gauge!("huashu_ruleset_retired_engines").set(held as f64);
}

/// A webhook delivery from an integration, by what was done with it.
pub fn integration_webhook(platform: &'static str, outcome: &'static str) {
    counter!("huashu_integration_webhooks_total", "platform" => platform, "outcome" => outcome)
        .increment(1);
}

/// A note (findings posted back to the platform), by result: `sent`, `failed` or `dropped`.
pub fn integration_note(platform: &'static str, result: &'static str) {
    counter!("huashu_integration_notes_total", "platform" => platform, "result" => result)
        .increment(1);
}

pub fn integration_note_retry(platform: &'static str) {
    counter!("huashu_integration_note_retries_total", "platform" => platform).increment(1);
}
