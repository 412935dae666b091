#!/usr/bin/env bash
# Builds every fuzz target and runs each for a short bounded time (FUZZ_SECONDS, default 10). cargo-fuzz needs
# a nightly compiler; on the stable toolchain RUSTC_BOOTSTRAP=1 stands in (fuzz/README.md). No sanitizer: the
# code is safe Rust (unsafe_code is denied), and a panic or a failed property still stops the run.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
SECONDS_EACH="${FUZZ_SECONDS:-10}"
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install --locked --quiet cargo-fuzz
fi
# The fuzz workspace's own lock file must be current: fail rather than resolve anew.
cargo fetch --locked --quiet
for target in $(RUSTC_BOOTSTRAP=1 cargo fuzz list); do
  echo "== fuzz $target (${SECONDS_EACH}s)"
  RUSTC_BOOTSTRAP=1 cargo fuzz run -O --sanitizer none "$target" -- -max_total_time="$SECONDS_EACH" -print_final_stats=1 2>&1 \
    | grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==|SUMMARY|Done)" || true
  # cargo fuzz exits non-zero on a crash; pipefail above makes that fail the tier.
done
