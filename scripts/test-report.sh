#!/usr/bin/env bash
# `huashu report` in a real headless Chromium: the page loads with no console message and its script draws
# every chart. `--screenshot PATH` also writes a screenshot (docs/report.png is made this way).
set -euo pipefail
cd "$(dirname "$0")/.."
SHOT=""
if [ "${1:-}" = "--screenshot" ]; then SHOT="$(realpath -m "$2")"; fi

bash scripts/console-prereqs.sh   # chromium + a CJK font (apt-get update && apt-get install -y chromium …)
cargo build --quiet -p huashu-cli
BIN="${CARGO_TARGET_DIR:-target}/debug/huashu"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

python3 examples/spark/generate.py 400 > "$WORK/conversations.jsonl"
"$BIN" score "$WORK/conversations.jsonl" > "$WORK/results.jsonl"
"$BIN" report "$WORK/results.jsonl" -o "$WORK/report.html"

chrome() {
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d -p "$WORK")" --enable-logging=stderr --v=0 "$@"
}
chrome --dump-dom "file://$WORK/report.html" > "$WORK/dom.html" 2> "$WORK/chrome.log"

fail=0
if grep -E ':CONSOLE[:(]' "$WORK/chrome.log"; then
  echo "FAIL: the report page wrote to the console (above)"; fail=1
fi
grep -q 'data-charts-drawn="5"' "$WORK/dom.html" || { echo "FAIL: the page's script did not draw all 5 sections"; fail=1; }
svgs=$(grep -o '<svg[^>]*data-chart=' "$WORK/dom.html" | wc -l)
bars=$(grep -o '<rect[^>]*class="bar"' "$WORK/dom.html" | wc -l)
rows=$(grep -o '<tr>' "$WORK/dom.html" | wc -l)
echo "report: $svgs charts, $bars bars, $rows table rows"
[ "$svgs" -ge 4 ] || { echo "FAIL: expected 4 SVG charts, got $svgs"; fail=1; }
[ "$bars" -ge 20 ] || { echo "FAIL: expected at least 20 bars, got $bars"; fail=1; }
[ "$rows" -ge 21 ] || { echo "FAIL: expected the 20 worst conversations, got $((rows - 1)) rows"; fail=1; }
if grep -Eo '(src|href)="(https?:)?//' "$WORK/report.html"; then echo "FAIL: the page loads something from the network"; fail=1; fi

if [ -n "$SHOT" ]; then
  chrome --hide-scrollbars --window-size=1280,1500 --screenshot="$SHOT" "file://$WORK/report.html" 2>/dev/null
  echo "screenshot: $SHOT"
fi
if [ "$fail" = 0 ]; then echo "report: 1 passed, 0 failed"; else echo "report: 0 passed, 1 failed"; exit 1; fi
