#!/usr/bin/env bash
# Builds every fuzz target and runs each for a short bounded time (FUZZ_SECONDS, default 10).
#
# The targets are built the way `cargo fuzz build -O --sanitizer none` builds them (cargo-fuzz 0.13's flags:
# sancov instrumentation, `--cfg fuzzing`, one codegen unit, an explicit --target so build scripts get no
# instrumentation) and run as the libFuzzer binaries they are, with the corpus and artifact directories
# `cargo fuzz run` would give them. cargo-fuzz itself is not needed: on a fresh machine `cargo install
# cargo-fuzz` was over a minute of the CI's 15 (session 21). `cargo fuzz run TARGET` still works for people
# (fuzz/README.md). No sanitizer: the code is safe Rust (unsafe_code is denied), and a panic or a failed
# property still stops the run. RUSTC_BOOTSTRAP=1 stands in for the nightly compiler libFuzzer's build wants.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
SECONDS_EACH="${FUZZ_SECONDS:-10}"
# A fuzzer is one process on one core: as many run side by side as there are cores (FUZZ_PARALLEL), each for
# its full FUZZ_SECONDS, so two cores give every target the same time in half the wall clock.
PARALLEL="${FUZZ_PARALLEL:-$(nproc)}"
TRIPLE="$(rustc -vV | sed -n 's/^host: //p')"
FLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4"
FLAGS+=" -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table"
FLAGS+=" -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing"
FLAGS+=" -Cllvm-args=-simplifycfg-branch-fold-threshold=0 -Cllvm-args=-sanitizer-coverage-stack-depth"
FLAGS+=" -Ccodegen-units=1"
# The fuzz workspace's own lock file must be current: fail rather than resolve anew.
RUSTC_BOOTSTRAP=1 RUSTFLAGS="$FLAGS" cargo build --locked --quiet --release --bins --target "$TRIPLE" \
  --config 'profile.release.debug="line-tables-only"'
BIN_DIR="target/$TRIPLE/release"
targets=($(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^huashu-fuzz$'))
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
# Runs one batch side by side, waits for all of it, then prints each target's summary in order (a crashed
# target with its log's tail). Only the fuzzer's own exit status decides, not the filter: a crash fails the step.
run_batch() {
  local t i pids=() status=()
  for t in "$@"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    "$BIN_DIR/$t" -artifact_prefix="artifacts/$t/" -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
      "corpus/$t" >"$logs/$t" 2>&1 &
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
[ ${#targets[@]} -gt 0 ] || { echo "fuzz.sh: no fuzz targets in fuzz/Cargo.toml" >&2; exit 1; }
for ((i = 0; i < ${#targets[@]}; i += PARALLEL)); do
  run_batch "${targets[@]:i:PARALLEL}"
done
