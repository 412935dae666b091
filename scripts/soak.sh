#!/usr/bin/env bash
# Soak on loopback (issue 18): start `huashu serve` on a copy of rulesets/zh-CN (so it can be reloaded), run
# `huashu soak` against it for DURATION seconds (normal clients, slow readers, churn, bad frames, a reload
# every RELOAD_EVERY_S: an edit in place, then a directory swap), then SIGTERM the daemon, which must exit 0.
# Exits non-zero when the soak found a problem (lost findings, /readyz not ready, RSS growth, held sessions).
#   DURATION=600 CLIENTS=1000 PROFILE=release bash scripts/soak.sh          # the full soak
#   DURATION=40 CLIENTS=200 UTTERANCES=8 INTERVAL_MS=500 RELOAD_EVERY_S=8 WARMUP_S=10 WARMUP_RELOADS=2 \
#     RSS_EVERY_S=3 SELFTEST=0 bash scripts/soak.sh                                               # CI's short version (debug build)
# The JSON report goes to stdout and to $SOAK_OUT (default /tmp/huashu-soak.json); BIN=… skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-600}
CLIENTS=${CLIENTS:-1000}
UTTERANCES=${UTTERANCES:-16}
INTERVAL_MS=${INTERVAL_MS:-1000}
RELOAD_EVERY_S=${RELOAD_EVERY_S:-60}
RSS_EVERY_S=${RSS_EVERY_S:-10}
# Seconds before RSS must stay flat (default: 60, or a third of a shorter run). It should cover two reloads:
# until then the old and the new engine are both alive for the first time.
WARMUP_S=${WARMUP_S:-}
# … and until this many reloads were served (RSS steps up at the first two; a short run cannot time them).
WARMUP_RELOADS=${WARMUP_RELOADS:-0}
RSS_GROWTH_LIMIT=${RSS_GROWTH_LIMIT:-0.10}
# SELFTEST=0: reloads skip the rule examples (a debug build takes too long over them for a reload a minute).
SELFTEST=${SELFTEST:-1}
PROFILE=${PROFILE:-dev}
PORT=${PORT:-$((20000 + RANDOM % 20000))}
SOAK_OUT=${SOAK_OUT:-/tmp/huashu-soak.json}
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
# BIN=path/to/huashu uses that binary as it is (no build).
if [ -z "${BIN:-}" ]; then
  cargo build --locked --quiet --profile "$PROFILE" -p huashu-cli
  dir=$( [ "$PROFILE" = dev ] && echo debug || echo "$PROFILE" )
  BIN="${CARGO_TARGET_DIR:-target}/$dir/huashu"
fi
work=$(mktemp -d /tmp/huashu-soak.XXXXXX)
cp -r rulesets/zh-CN "$work/zh-CN"
printf '[reload]\nselftest = %s\n' "$( [ "$SELFTEST" = 0 ] && echo false || echo true )" >"$work/huashu.toml"
"$BIN" serve --config "$work/huashu.toml" --listen "127.0.0.1:$PORT" --ruleset "$work/zh-CN" \
  2>"$work/serve.log" &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null || true; rm -rf "$work"' EXIT
# A debug build on a busy machine takes tens of seconds to load and self-test the ruleset.
for i in $(seq 1 600); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  if ! kill -0 $SERVER 2>/dev/null || [ "$i" = 600 ]; then
    echo "soak: the daemon is not listening on 127.0.0.1:$PORT" >&2
    cat "$work/serve.log" >&2
    exit 1
  fi
  sleep 0.2
done
echo "soak: daemon pid $SERVER on 127.0.0.1:$PORT, ${DURATION} s, $CLIENTS clients; $(uptime)" >&2
status=0
timeout $((DURATION + 180)) "$BIN" soak --addr "127.0.0.1:$PORT" --clients "$CLIENTS" \
  --duration-s "$DURATION" --utterances "$UTTERANCES" --interval-ms "$INTERVAL_MS" \
  --ruleset-dir "$work/zh-CN" --reload-every-s "$RELOAD_EVERY_S" --rss-every-s "$RSS_EVERY_S" \
  --rss-growth-limit "$RSS_GROWTH_LIMIT" --warmup-reloads "$WARMUP_RELOADS" ${WARMUP_S:+--warmup-s "$WARMUP_S"} \
  >"$SOAK_OUT" || status=$?
cat "$SOAK_OUT"
echo "soak: $(uptime)" >&2
kill -TERM $SERVER
if ! wait $SERVER; then
  echo "soak: the daemon did not exit cleanly after SIGTERM" >&2
  tail -20 "$work/serve.log" >&2
  status=1
fi
trap - EXIT
rm -rf "$work"
exit $status
