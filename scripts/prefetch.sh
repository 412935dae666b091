#!/usr/bin/env bash
# What the slow tier installs on a fresh machine, fetched while the fast tier compiles: the system packages
# (headless Chromium and a CJK font for the console tests; cmake, libclang, espeak-ng and sox for speech), the
# Python wheels of the binding's tests and the Spark example, and the Whisper models. These are waits on the
# network and the disk, over two minutes of a fresh CI run when each script fetched its own in turn (session 21).
# scripts/test.sh starts this in the background and waits for it before the slow tier. Best effort: a step
# that fails here is retried by the script that needs it, which installs whatever is still missing.
set -uo pipefail
cd "$(dirname "$0")/.."

have_libclang() { compgen -G "/usr/lib/llvm-*/lib/libclang*.so*" >/dev/null || compgen -G "/usr/lib/x86_64-linux-gnu/libclang*.so*" >/dev/null; }
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
fc-list 2>/dev/null | grep -qi -e wqy -e "noto.*cjk" || missing+=(fonts-wqy-zenhei)
for t in cmake espeak-ng sox; do command -v "$t" >/dev/null || missing+=("$t"); done
have_libclang || missing+=(libclang-dev)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "prefetch: apt-get install ${missing[*]}"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null \
    || echo "prefetch: apt-get failed (the scripts that need these will try again)"
fi

# pip's cache keeps the downloads and the wheels built here: the venvs of scripts/test-python.sh install from it.
wheels=(pytest mypy pyarrow "maturin>=1.16,<2" numpy)
[ "${HUASHU_SKIP_SPARK:-0}" = 1 ] || wheels+=(pyspark "pandas<3")
tmp="$(mktemp -d)"
python3 -m pip wheel --quiet -w "$tmp" "${wheels[@]}" || echo "prefetch: pip wheel failed"
rm -rf "$tmp"

# The models scripts/test-audio.sh asks for, cached under ~/.cache/huashu/models.
for m in "base" "tiny.en" "base --quantize f16" "silero"; do
  # shellcheck disable=SC2086
  scripts/fetch-model $m >/dev/null || echo "prefetch: fetch-model $m failed"
done
echo "prefetch: done"
