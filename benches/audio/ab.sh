#!/usr/bin/env bash
# Before/after figures on a shared machine: `huashu bench --audio --no-live` on the clips of run.sh, the
# configurations ALTERNATING (A B A B ...) so that each pair sees about the same load; one line per run with
# the load average (1 min, before → after), RTF (total, encoder, decoder), the process's CPU seconds (user +
# system: at 1 thread the work itself, much steadier than wall time on a loaded machine; the bench profiles,
# so this includes its second log-mel + encoder pass), the recogniser's passes / encoder windows / decoded
# tokens and the error rates.
#   benches/audio/ab.sh THREADS REPS "CONFIG A" "CONFIG B" [...]
# A configuration is bench flags, optionally starting with bin=PATH (another build of huashu), e.g.
#   benches/audio/ab.sh 2 3 "--flash-attn false" "--flash-attn true"
#   benches/audio/ab.sh 1 2 "" "--model $HOME/.cache/huashu/models/ggml-base-q8_0.bin"
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
# shellcheck source=benches/audio/ab-config.sh
. "$here/ab-config.sh"
shared="${HUASHU_SHARED_AUDIO:-$root/../shared/audio}"
threads="${1:?usage: ab.sh THREADS REPS CONFIG...}"; reps="${2:?}"; shift 2
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$here/synth-call.sh" "$work/call60.wav" 2>/dev/null
printf 'rep\tconfig\tthreads\tload\tRTF\tencoder\tdecoder\tCPU s\tpasses/windows/tokens\tCER AISHELL\tWER jfk\tCER call\n'
for rep in $(seq 1 "$reps"); do
  for config in "$@"; do
    split_config "$config"
    # shellcheck disable=SC2086
    /usr/bin/time -o "$work/cpu" -f '%U %S' "$bin" bench --audio --json --no-live --threads "$threads" $flags \
      "$shared/aishell1-BAC009S0764W0121.wav" "$shared/jfk.wav" "$work/call60.wav" \
      --reference "$here/aishell1-BAC009S0764W0121.txt" --reference "$here/jfk.txt" \
      --reference "$here/call-zh.txt" 2>/dev/null >"$work/out.json"
    python3 - "$rep" "$config" "$work/out.json" "$work/cpu" <<'PY'
import json, sys
rep, config, path, cpu = sys.argv[1:]
cpu_s = sum(float(x) for x in open(cpu).read().split()[-2:])
v = json.load(open(path))
t = v["total"]["rtf"]
rates = [f["error_rate"]["rate"] if f.get("error_rate") else float("nan") for f in v["files"]]
lb, la = v["load_average_before"], v["load_average_after"]
w = v["total"].get("work")
work = f"{w['passes']}/{w['windows']}/{w['tokens']}" if w else "-"
print(f"{rep}\t{config or '(default)'}\t{v['threads']}\t{lb[0]:.1f} → {la[0]:.1f}\t{t['total']:.3f}\t"
      f"{t['encoder']:.3f}\t{t['decoder']:.3f}\t{cpu_s:.1f}\t{work}\t" + "\t".join(f"{r:.3f}" for r in rates))
PY
  done
done
