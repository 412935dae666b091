#!/usr/bin/env bash
# The encoder window's floor chosen by character error rate on real Mandarin (benches/RESULTS.md, "Speech,
# session 4"): the AISHELL-1 clip of ../shared/audio whole and cut at the two energy dips whose halves the
# full 30 s window hears whole (甚至出现|交易… at 1.52 s, 甚至出现交易|几乎… at 2.02 s; the dips at 1.06, 2.54,
# 2.95 and 3.10 s split 出, 停, 的 and 情: each half heard a piece of it), each piece also through the 8 kHz
# μ-law round trip (sox), recognised one utterance per pass (--no-pack: the floor is what a short utterance
# gets) at each floor. The cuts live in a temporary directory, never in the repository.
#   benches/audio/floor.sh THREADS "FLOOR..." [more bench flags]
#   benches/audio/floor.sh 1 "256 384 448 512"
# MODELS="base base-q8_0" runs each floor with each model (--model NAME) on the same pieces: sox dithers the
# μ-law round trip, so pieces cut in another run differ by a character now and then (benches/RESULTS.md,
# "Speech, session 6"); compare models within one run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
shared="${HUASHU_SHARED_AUDIO:-$root/../shared/audio}"
bin="${HUASHU_BIN:-$root/target/release/huashu}"
threads="${1:?usage: floor.sh THREADS \"FLOOR...\" [bench flags]}"; floors="${2:?}"; shift 2
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$shared/aishell1-BAC009S0764W0121.wav" "$work" <<'PY'
import subprocess, sys
clip, work = sys.argv[1:]
ref = "甚至出现交易几乎停滞的情况"
pieces = [("whole", None, None, ref)]
for at, k in [(1.52, 4), (2.02, 6)]:
    pieces += [(f"pre{k}", 0, at, ref[:k]), (f"suf{k}", at, None, ref[k:])]
for name, a, b, text in pieces:
    trim = [] if a is None else ["trim", str(a)] + ([f"={b}"] if b else [])
    subprocess.run(["sox", clip, f"{work}/{name}.wav"] + trim, check=True)
    subprocess.run(["sox", f"{work}/{name}.wav", "-r", "8000", "-e", "u-law", "-b", "8", f"{work}/u.wav"], check=True)
    subprocess.run(["sox", f"{work}/u.wav", "-r", "16000", "-e", "signed", "-b", "16", f"{work}/{name}-8k.wav"], check=True)
    for n in (name, f"{name}-8k"):
        open(f"{work}/{n}.ref", "w").write(text + "\n")
PY
rm -f "$work/u.wav"
files=(); refs=()
for w in "$work"/*.wav; do files+=("$w"); refs+=(--reference "${w%.wav}.ref"); done
printf 'floor\tmodel\tload\terrors\tchars\tCER\tCPU s\tper file (errors: heard)\n'
for floor in $floors; do
 for model in ${MODELS:--}; do
  margs=(); [ "$model" = - ] || margs=(--model "$model")
  # shellcheck disable=SC2068
  /usr/bin/time -o "$work/cpu" -f '%U %S' "$bin" bench --audio --json --no-live --no-pack --threads "$threads" \
    --audio-ctx-floor "$floor" "${margs[@]}" "$@" "${files[@]}" "${refs[@]}" 2>/dev/null >"$work/out.json"
  python3 - "$floor" "$model" "$work/out.json" "$work/cpu" <<'PY'
import json, os, sys
floor, model, path, cpu = sys.argv[1:]
v = json.load(open(path))
errs = sum(f["error_rate"]["errors"] for f in v["files"])
chars = sum(f["error_rate"]["length"] for f in v["files"])
cpu_s = sum(float(x) for x in open(cpu).read().split()[-2:])
wrong = "; ".join(f'{os.path.basename(f["file"])}: {f["error_rate"]["errors"]} {f["text"]}' for f in v["files"] if f["error_rate"]["errors"])
lb, la = v["load_average_before"], v["load_average_after"]
name = os.path.basename(v["model"]) if model == "-" else model
print(f"{floor}\t{name}\t{lb[0]:.1f} → {la[0]:.1f}\t{errs}\t{chars}\t{errs / chars:.3f}\t{cpu_s:.1f}\t{wrong or '-'}")
PY
 done
done
