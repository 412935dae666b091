#!/usr/bin/env bash
# The whole test suite. README's test command; .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR=never
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== console test prerequisites (headless Chromium, CJK font)"
bash scripts/console-prereqs.sh
export HUASHU_REQUIRE_CHROMIUM=1
echo "== cargo test (workspace: unit, rule examples, corpus P/R, CLI contract, doc examples)"
cargo test --workspace --quiet 2>&1 | tee /tmp/huashu-cargo-test.log
echo "== huashu test-ruleset (every bundled ruleset)"
for rs in rulesets/*/; do
  [ -f "$rs/ruleset.toml" ] || continue
  cargo run --quiet -p huashu-cli -- test-ruleset "$rs"
done
# Bench targets are compiled (and linted) by `cargo clippy --all-targets` above; a separate release build of
# them cost about five minutes of CI for nothing more.
echo "== sidecar load test (1,000 concurrent WebSocket sessions on loopback)"
SESSIONS=1000 UTTERANCES=5 INTERVAL_MS=100 bash scripts/loadtest.sh
echo "== audio: whisper front end, model converter, synthesised calls"
bash scripts/test-audio.sh
echo "== report page in headless Chromium"
bash scripts/test-report.sh
echo "== Python binding (fresh venv, pytest, stubtest) and the Spark example (local[2])"
bash scripts/test-python.sh
