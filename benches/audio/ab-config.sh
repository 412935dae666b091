# Sourced by ab.sh and live-ab.sh: a configuration is bench flags, optionally starting with bin=PATH (another
# build of huashu). Sets $bin and $flags for one configuration.
split_config() {
  local config="$1"
  bin="${HUASHU_BIN:-$root/target/release/huashu}"
  flags="$config"
  if [[ "$config" == bin=* ]]; then
    bin="${config%% *}"; bin="${bin#bin=}"
    flags="${config#* }"; [ "$flags" = "$config" ] && flags=""
  fi
}
