#!/usr/bin/env bash
# The whole test suite. README's test command; .ci/run calls exactly this.
# Two tiers: the fast one (format, lints, every unit/integration test, every ruleset's self-test) fails in a
# few minutes; the slow one (load test, speech, browsers, Python/Spark, fuzzing) runs only after it passes.
# Every cargo call that can be is --locked: CI never resolves dependencies anew.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR=never
# `step NAME` prints "== NAME" and, when the next step starts, "-- NAME: N s (total M s)".
source scripts/step.sh
tier() { step; echo; echo "######## $*"; }

# The slow tier's downloads (system packages, Python wheels, Whisper models) run beside the fast tier's compiles.
PREFETCH_LOG="$(mktemp)"
bash scripts/prefetch.sh >"$PREFETCH_LOG" 2>&1 &
PREFETCH=$!

tier "fast tier"
step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy"
cargo clippy --locked --workspace --all-targets --quiet -- -D warnings
# One build of every test binary (and of the `huashu` binary the CLI tests run), then the runs: the slow tier
# below reuses both — the same package selection (--workspace) resolves the same features, so nothing is
# built again — instead of a `cargo build -p …` per script.
step "cargo test: build (workspace, once)"
cargo test --locked --workspace --no-run --quiet
step "cargo test (workspace: unit, rule examples, labelled sets, corpus P/R, CLI contract, sidecar protocol)"
cargo test --locked --workspace --quiet 2>&1 | tee /tmp/huashu-cargo-test.log
TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
case "$TARGET" in /*) ;; *) TARGET="$PWD/$TARGET" ;; esac
# The debug `huashu` of that build, kept aside: the audio tests build another (with the `audio` feature)
# at the same path.
mkdir -p "$TARGET/ci"
cp "$TARGET/debug/huashu" "$TARGET/ci/huashu"
export BIN="$TARGET/ci/huashu"
step "huashu test-ruleset (every bundled ruleset)"
for rs in rulesets/*/; do
  [ -f "$rs/ruleset.toml" ] || continue
  "$BIN" test-ruleset "$rs"
done
# Bench targets are compiled (and linted) by `cargo clippy --all-targets` above; a separate release build of
# them cost about five minutes of CI for nothing more.

tier "slow tier"
step "wait for the downloads started with the fast tier (scripts/prefetch.sh)"
wait "$PREFETCH" || true
cat "$PREFETCH_LOG"
step "console and practice tab in headless Chromium"
bash scripts/console-prereqs.sh
HUASHU_REQUIRE_CHROMIUM=1 cargo test --locked --quiet --workspace --test console --test practice
step "sidecar load test (1,000 concurrent WebSocket sessions on loopback)"
SESSIONS=1000 UTTERANCES=5 INTERVAL_MS=100 bash scripts/loadtest.sh
step "sidecar soak, short (40 s: mixed clients, bad frames, reloads; nothing lost, /readyz true, RSS flat)"
DURATION=40 CLIENTS=200 UTTERANCES=8 INTERVAL_MS=500 RELOAD_EVERY_S=8 WARMUP_S=10 WARMUP_RELOADS=2 \
  RSS_EVERY_S=3 SELFTEST=0 bash scripts/soak.sh
step "audio: whisper front end, model converter, synthesised calls"
bash scripts/test-audio.sh
step "report page in headless Chromium"
bash scripts/test-report.sh
step "Python binding (fresh venv, pytest, stubtest) and the Spark example (local[2])"
bash scripts/test-python.sh
step "fuzz targets (built, each run for a bounded time)"
bash scripts/fuzz.sh
