#!/usr/bin/env bash
# Screens whisper.cpp build flags without rebuilding huashu (whisper-rs-sys ignores changed GGML_* variables in
# an existing target directory, and a release build of huashu takes ~15-20 min on a loaded 2-core machine):
# builds the whisper.cpp that whisper-rs-sys vendors once per flag set (Release, static, no OpenMP, as
# whisper-rs-sys builds it), links wbench.c against each, and runs them ALTERNATELY on the real clips at one
# thread, printing CPU seconds (user + system) and the text.
#   benches/audio/ggml-flags.sh WORKDIR REPS "NAME:CMAKE FLAGS" ...
#   benches/audio/ggml-flags.sh /tmp/ggml 2 "base:" "llamafile:-DGGML_LLAMAFILE=ON"
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="${1:?usage: ggml-flags.sh WORKDIR REPS NAME:FLAGS...}"; reps="${2:?}"; shift 2
shared="${HUASHU_SHARED_AUDIO:-$here/../../../shared/audio}"
models="${HUASHU_MODEL_DIR:-$HOME/.cache/huashu/models}"
src="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/whisper-rs-sys-0.15.0/whisper.cpp | head -1)"
mkdir -p "$work"
sox "$shared/jfk.wav" -t f32 -c 1 -r 16000 "$work/jfk.f32"
sox "$shared/aishell1-BAC009S0764W0121.wav" -t f32 -c 1 -r 16000 "$work/zh.f32"
for spec in "$@"; do
  name="${spec%%:*}"; flags="${spec#*:}"
  [ -x "$work/wbench-$name" ] && continue
  # shellcheck disable=SC2086
  cmake -S "$src" -B "$work/b-$name" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DGGML_OPENMP=OFF \
    -DWHISPER_BUILD_TESTS=OFF -DWHISPER_BUILD_EXAMPLES=OFF -DGGML_NATIVE=OFF $flags >/dev/null
  cmake --build "$work/b-$name" -j2 --target whisper >/dev/null
  mapfile -t libs < <(find "$work/b-$name" -name '*.a')
  gcc -O2 -o "$work/wbench-$name" "$here/wbench.c" -I"$src/include" -I"$src/ggml/include" \
    -Wl,--start-group "${libs[@]}" -Wl,--end-group -lstdc++ -lm -lpthread
done
for rep in $(seq 1 "$reps"); do
  for spec in "$@"; do
    name="${spec%%:*}"
    for model in base base-q8_0; do
      [ -f "$models/ggml-$model.bin" ] || continue
      for clip in jfk:en zh:zh; do
        f="${clip%%:*}"; lang="${clip#*:}"
        text="$(/usr/bin/time -o "$work/cpu" -f '%U %S' "$work/wbench-$name" "$models/ggml-$model.bin" \
          "$work/$f.f32" "$lang" 1 1 0 2>/dev/null | tail -1)"
        cpu="$(awk '{print $1 + $2}' "$work/cpu")"
        printf '%s\t%s\t%s\t%s\tload %s\tCPU %s s\t%s\n' "$rep" "$name" "$model" "$f" \
          "$(cut -d' ' -f1 /proc/loadavg)" "$cpu" "${text#*text:}"
      done
    done
  done
done
