#!/usr/bin/env bash
# The speech figures of benches/RESULTS.md ("Speech"): `huashu bench --audio` on the shared real clips
# (../shared/audio: AISHELL-1 Mandarin, jfk.wav) and a synthesised 60 s two-party call, with their reference
# transcripts. Needs a release build with the `audio` feature and the model scripts/fetch-model caches.
#   benches/audio/run.sh THREADS [more bench flags]      # JSON on stdout
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
shared="${HUASHU_SHARED_AUDIO:-$root/../shared/audio}"
threads="${1:-2}"; shift || true
call="$(mktemp -d)/call60.wav"
"$here/synth-call.sh" "$call" 2>/dev/null
"${HUASHU_BIN:-$root/target/release/huashu}" bench --audio --json --threads "$threads" "$@" \
  "$shared/aishell1-BAC009S0764W0121.wav" "$shared/jfk.wav" "$call" \
  --reference "$here/aishell1-BAC009S0764W0121.txt" --reference "$here/jfk.txt" --reference "$here/call-zh.txt"
rm -rf "$(dirname "$call")"
