#!/usr/bin/env bash
# Load test on loopback: start `huashu serve` on a free port, drive SESSIONS concurrent WebSocket sessions,
# print the figures, stop the daemon with SIGTERM. Bounded: fixed utterances per session and a deadline.
#   SESSIONS=1000 UTTERANCES=20 INTERVAL_MS=200 PROFILE=release [BURST=1] bash scripts/loadtest.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SESSIONS=${SESSIONS:-1000}
UTTERANCES=${UTTERANCES:-5}
INTERVAL_MS=${INTERVAL_MS:-100}
PROFILE=${PROFILE:-dev}
PORT=${PORT:-$((20000 + RANDOM % 20000))}
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
# BIN=path/to/huashu uses that binary as it is (no build; scripts/test.sh passes the one its tests built).
if [ -z "${BIN:-}" ]; then
  cargo build --locked --quiet --profile "$PROFILE" -p huashu-cli
  dir=$( [ "$PROFILE" = dev ] && echo debug || echo "$PROFILE" )
  BIN="${CARGO_TARGET_DIR:-target}/$dir/huashu"
fi
"$BIN" serve --listen "127.0.0.1:$PORT" 2>/tmp/huashu-loadtest-serve.log &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.2
done
timeout 300 "$BIN" loadtest --addr "127.0.0.1:$PORT" --sessions "$SESSIONS" --utterances "$UTTERANCES" \
  --interval-ms "$INTERVAL_MS" --deadline-s 240 ${BURST:+--burst}
kill -TERM $SERVER
wait $SERVER
trap - EXIT
