#!/usr/bin/env bash
# `huashu report` in a real headless Chromium: the page loads with no console message and its script draws
# every chart. `--screenshot PATH` also writes a screenshot (docs/report.png is made this way);
# `--radar-screenshot PATH` one of the per-agent radar section (docs/radar.png).
set -euo pipefail
cd "$(dirname "$0")/.."
SHOT=""
RADAR_SHOT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --screenshot) SHOT="$(realpath -m "$2")"; shift 2 ;;
    --radar-screenshot) RADAR_SHOT="$(realpath -m "$2")"; shift 2 ;;
    *) echo "usage: $0 [--screenshot PATH] [--radar-screenshot PATH]"; exit 2 ;;
  esac
done

bash scripts/console-prereqs.sh   # chromium + a CJK font (apt-get update && apt-get install -y chromium …)
# BIN=path/to/huashu uses that binary as it is (no build; scripts/test.sh passes the one its tests built).
if [ -z "${BIN:-}" ]; then
  cargo build --locked --quiet -p huashu-cli
  BIN="${CARGO_TARGET_DIR:-target}/debug/huashu"
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

python3 examples/spark/generate.py 400 > "$WORK/generated.jsonl"
# Dates over two months (`date`, or `started_at` for half of them) and turn timestamps (first responses between
# 5 s and 50 s), so the per-agent monthly radars and the 30-second KPI have something to show.
python3 - "$WORK/generated.jsonl" > "$WORK/conversations.jsonl" <<'PY'
import json, sys
for i, line in enumerate(open(sys.argv[1], encoding="utf-8")):
    c = json.loads(line)
    c["date" if i % 2 else "started_at"] = "2025-%02d-%02dT10:00:00+08:00" % (5 + i % 2, 1 + i % 28)
    t = 0
    for j, turn in enumerate(c["turns"]):
        gap = (5000 + (i * 7919) % 45000) if j == 1 else 2000
        turn["start_ms"] = t + gap
        turn["end_ms"] = turn["start_ms"] + 250 * len(turn["text"])
        t = turn["end_ms"]
    print(json.dumps(c, ensure_ascii=False))
PY
"$BIN" score "$WORK/conversations.jsonl" > "$WORK/results.jsonl"
grep -q '"date":"2025-06-' "$WORK/results.jsonl" || { echo "FAIL: huashu score did not carry date/started_at"; exit 1; }
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
grep -q 'data-charts-drawn="6"' "$WORK/dom.html" || { echo "FAIL: the page's script did not draw all 6 sections"; fail=1; }
# Radars: the team, 6 agents, 6 agents x 2 months; every one a 7-axis polygon with KPIs and a study list.
radars=$(grep -o '<polygon class="radar-area"' "$WORK/dom.html" | wc -l)
monthly=$(grep -o 'data-month="2025-0[56]"' "$WORK/dom.html" | wc -l)
echo "report: $radars radars ($monthly per agent-month)"
[ "$radars" -eq 19 ] || { echo "FAIL: expected 19 radars (team + 6 agents + 12 agent-months), got $radars"; fail=1; }
[ "$monthly" -eq 12 ] || { echo "FAIL: expected 12 agent-month radars, got $monthly"; fail=1; }
for needle in '30秒首响' '合规 ' '及时 ' '流程 ' 'class="study"' 'class="say"'; do
  grep -q "$needle" "$WORK/dom.html" || { echo "FAIL: radar section lacks $needle"; fail=1; }
done
python3 - "$WORK/report.html" <<'PY' || fail=1
import json, re, sys
html = open(sys.argv[1], encoding="utf-8").read()
data = json.loads(re.search(r'id="huashu-data">(.*?)</script>', html, re.S).group(1))
team = data["radars"][0]
dims = {d["dim"]: d["value"] for d in team["dims"]}
assert list(dims) == ["compliance", "courtesy", "empathy", "solution", "commitment", "timeliness", "flow"], dims
assert all(v is not None and 0 <= v <= 100 for v in dims.values()), dims
assert team["conversations"] == 400 and team["first_response_judged"] >= 390, team
assert 0 < team["first_response_30s"] < 100, team
assert team["study"] and all(s["suggestion"] for s in team["study"][:3]), team["study"]
PY
svgs=$(grep -o '<svg[^>]*data-chart=' "$WORK/dom.html" | wc -l)
bars=$(grep -o '<rect[^>]*class="bar"' "$WORK/dom.html" | wc -l)
rows=$(grep -o '<tr>' "$WORK/dom.html" | wc -l)
echo "report: $svgs charts, $bars bars, $rows table rows"
[ "$svgs" -ge 4 ] || { echo "FAIL: expected 4 SVG charts, got $svgs"; fail=1; }
[ "$bars" -ge 20 ] || { echo "FAIL: expected at least 20 bars, got $bars"; fail=1; }
[ "$rows" -ge 21 ] || { echo "FAIL: expected the 20 worst conversations, got $((rows - 1)) rows"; fail=1; }
if grep -Eo '(src|href)="(https?:)?//' "$WORK/report.html"; then echo "FAIL: the page loads something from the network"; fail=1; fi

if [ -n "$SHOT" ]; then
  chrome --hide-scrollbars --window-size=1280,${SHOT_HEIGHT:-1500} --screenshot="$SHOT" "file://$WORK/report.html" 2>/dev/null
  echo "screenshot: $SHOT"
fi
if [ -n "$RADAR_SHOT" ]; then
  # The radar section alone: the same page with `#only-radars` hides the other sections.
  chrome --hide-scrollbars --window-size=1280,1000 --screenshot="$RADAR_SHOT" "file://$WORK/report.html#only-radars" 2>/dev/null
  echo "screenshot: $RADAR_SHOT"
fi
if [ "$fail" = 0 ]; then echo "report: 1 passed, 0 failed"; else echo "report: 0 passed, 1 failed"; exit 1; fi
