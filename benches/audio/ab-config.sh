# Sourced by ab.sh and live-ab.sh: a configuration is bench flags, optionally starting with bin=PATH (another
# build of huashu). Sets $bin and $flags for one configuration.
split_config() {
  local config="$1"
  bin="${HUASHU_BIN:-$root/target/release/huashu}"
  flags="$config"
  if [[ "$config" == bin=* ]]; then
    bin="${config%% *}"; bin="${bin#bin=}"
    flags="${config#* }"
    # (an `if`: a failing `[ ] &&` as the function's last command made it fail, and set -e ended the caller)
    if [ "$flags" = "$config" ]; then flags=""; fi
  fi
}
