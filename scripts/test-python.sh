#!/usr/bin/env bash
# The Python binding in a fresh venv: pip install ./bindings/python, pytest (shared engine cases, API, equality
# with the CLI), mypy.stubtest on the hand-written stubs, the issue's one-liner; then the Spark example in
# local[2] mode (pyspark is large: skip it with HUASHU_SKIP_SPARK=1). Uses $CARGO_TARGET_DIR when set.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
export CARGO_TERM_COLOR=never
source scripts/step.sh

# The binding's workspace builds in the root's target directory: the dependencies it shares with the root
# (same versions in both lock files) are then checked and compiled once, not again in bindings/python/target.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
step "binding: cargo fmt, clippy (its own workspace, outside the root one)"
(cd bindings/python && cargo fmt -- --check && cargo clippy --locked --quiet --all-targets -- -D warnings)

# BIN=path/to/huashu uses that binary as it is (no build; scripts/test.sh passes the one its tests built).
if [ -n "${BIN:-}" ]; then
  export HUASHU_BIN="$BIN"
else
  cargo build --locked --quiet -p huashu-cli
  case "$CARGO_TARGET_DIR" in /*) export HUASHU_BIN="$CARGO_TARGET_DIR/debug/huashu" ;;
    *) export HUASHU_BIN="$ROOT/$CARGO_TARGET_DIR/debug/huashu" ;; esac
fi

VENV="$(mktemp -d)/venv"
trap 'rm -rf "$(dirname "$VENV")"; step' EXIT
# A venv without its own pip (ensurepip took about 6 s): this interpreter's pip installs into it
# (`pip --python`, pip >= 22.3); an older pip gets ensurepip as before.
python3 -m venv --without-pip "$VENV"
PY="$VENV/bin/python"
PIP=(python3 -m pip --python "$PY")
if ! "${PIP[@]}" --version >/dev/null 2>&1; then
  "$PY" -m ensurepip --quiet
  PIP=("$PY" -m pip)
fi
step "pip install ./bindings/python (fresh venv)"
"${PIP[@]}" install --quiet ./bindings/python pytest mypy pyarrow

# pytest exits 5 when it collected nothing: that is a failure here (the tests vanished), as is any other code.
run_pytest() {
  local rc=0
  (cd "$(mktemp -d)" && "$PY" -m pytest -q -p no:cacheprovider "$@") || rc=$?
  if [ "$rc" = 5 ]; then echo "FAIL: pytest collected no tests in $*"; return 1; fi
  return "$rc"
}

step "the issue's one-liner"
(cd "$(mktemp -d)" && "$PY" -c "import huashu; print(huashu.Engine().scan('这不是我的问题', role='agent'))")
step "pytest bindings/python/tests"
run_pytest "$ROOT/bindings/python/tests"
step "mypy.stubtest huashu"
(cd "$(mktemp -d)" && "$PY" -m mypy.stubtest huashu)

if [ "${HUASHU_SKIP_SPARK:-0}" = 1 ]; then
  step "spark: skipped (HUASHU_SKIP_SPARK=1)"
  exit 0
fi
step "spark example in local[2] (pyspark; needs Java)"
"${PIP[@]}" install --quiet pyspark "pandas<3"
start=$(date +%s)
run_pytest -s -p no:warnings "$ROOT/examples/spark/test_spark.py"
echo "spark test: $(( $(date +%s) - start ))s"
