#!/usr/bin/env bash
# Builds every fuzz target and runs each for a short bounded time (FUZZ_SECONDS, default 10). cargo-fuzz needs
# a nightly compiler; on the stable toolchain RUSTC_BOOTSTRAP=1 stands in (fuzz/README.md). No sanitizer: the
# code is safe Rust (unsafe_code is denied), and a panic or a failed property still stops the run.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
SECONDS_EACH="${FUZZ_SECONDS:-10}"
# A fuzzer is one process on one core: as many run side by side as there are cores (FUZZ_PARALLEL), each for
# its full FUZZ_SECONDS, so two cores give every target the same time in half the wall clock.
PARALLEL="${FUZZ_PARALLEL:-$(nproc)}"
FLAGS=(-O --sanitizer none)
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install --locked --quiet cargo-fuzz
fi
# The fuzz workspace's own lock file must be current: fail rather than resolve anew.
cargo fetch --locked --quiet
# Every target in one cargo call; each `cargo fuzz run` below then finds its binary built and only runs it.
RUSTC_BOOTSTRAP=1 cargo fuzz build "${FLAGS[@]}"
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
# Runs one batch side by side, waits for all of it, then prints each target's summary in order (a crashed
# target with its log's tail). Only cargo fuzz's own status decides, not the filter: a crash fails the step.
run_batch() {
  local t i pids=() status=()
  for t in "$@"; do
    RUSTC_BOOTSTRAP=1 cargo fuzz run "${FLAGS[@]}" "$t" -- -max_total_time="$SECONDS_EACH" \
      -print_final_stats=1 >"$logs/$t" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    status[i]=0
    wait "${pids[i]}" || status[i]=$?
  done
  i=0
  for t in "$@"; do
    echo "== fuzz $t (${SECONDS_EACH}s)"
    grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==|SUMMARY|Done)" "$logs/$t" || true
    if [ "${status[i]}" != 0 ]; then
      echo "FAIL: fuzz target $t exited with ${status[i]}:"
      tail -n 40 "$logs/$t"
    fi
    i=$((i + 1))
  done
  for i in "${!status[@]}"; do [ "${status[i]}" = 0 ] || return 1; done
}
targets=($(RUSTC_BOOTSTRAP=1 cargo fuzz list))
for ((i = 0; i < ${#targets[@]}; i += PARALLEL)); do
  run_batch "${targets[@]:i:PARALLEL}"
done
