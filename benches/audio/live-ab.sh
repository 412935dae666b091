#!/usr/bin/env bash
# Live latency before/after on a shared machine: `huashu bench --audio` (live simulation in real time, the
# offline pass too) on the clips of run.sh, the configurations ALTERNATING so that each pair sees about the
# same load; one line per recording and run: load (1 min, before → after), first partial and final latency
# (p50 / max, ms of stream time), partials cut / run, candidate finals cut, recogniser busy time over
# stream time, live and offline error rates, utterances.
#   benches/audio/live-ab.sh THREADS REPS "CONFIG A" "CONFIG B" [...]
# A configuration is bench flags, optionally starting with bin=PATH (another build of huashu), e.g.
#   benches/audio/live-ab.sh 1 2 "bin=/tmp/huashu-before" ""
#   benches/audio/live-ab.sh 2 1 "--end-silence-ms 600" "--end-silence-ms 400"
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
# shellcheck source=benches/audio/ab-config.sh
. "$here/ab-config.sh"
shared="${HUASHU_SHARED_AUDIO:-$root/../shared/audio}"
threads="${1:?usage: live-ab.sh THREADS REPS CONFIG...}"; reps="${2:?}"; shift 2
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$here/synth-call.sh" "$work/call60.wav" 2>/dev/null
printf 'rep\tconfig\tthreads\tload\tfile\tfirst partial p50/max\tfinal p50/max\tpartials cut/run\tcandidates\tbusy\terr live\terr offline\tutterances live/offline\tRTF offline\n'
for rep in $(seq 1 "$reps"); do
  for config in "$@"; do
    split_config "$config"
    # shellcheck disable=SC2086
    "$bin" bench --audio --json --threads "$threads" $flags \
      "$shared/aishell1-BAC009S0764W0121.wav" "$shared/jfk.wav" "$work/call60.wav" \
      --reference "$here/aishell1-BAC009S0764W0121.txt" --reference "$here/jfk.txt" \
      --reference "$here/call-zh.txt" 2>/dev/null >"$work/out.json"
    python3 - "$rep" "$config" "$work/out.json" <<'PY'
import json, sys
rep, config, path = sys.argv[1:]
v = json.load(open(path))
lb, la = v["load_average_before"], v["load_average_after"]
for f in v["files"]:
    l = f["live"]
    name = f["file"].rsplit("/", 1)[-1][:12]
    rate = lambda e: f"{e['rate']:.3f}" if e else "-"
    print(f"{rep}\t{config or '(default)'}\t{v['threads']}\t{lb[0]:.1f} → {la[0]:.1f}\t{name}\t"
          f"{l['first_partial_ms']['p50']:.0f} / {l['first_partial_ms']['max']:.0f}\t"
          f"{l['final_ms']['p50']:.0f} / {l['final_ms']['max']:.0f}\t"
          f"{l['partials_cut']} / {l['partials_run']}\t{l.get('candidates_cut', '-')}\t{l['busy_rtf']:.2f}\t"
          f"{rate(l['error_rate'])}\t{rate(f['error_rate'])}\t{l['utterances']} / {f['utterances']}\t"
          f"{f['rtf']['total']:.3f}")
PY
  done
done
