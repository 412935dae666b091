# Sourced by the test scripts: `step "name"` ends the running step with a line giving its elapsed seconds and
# the script's total so far, then starts the next; `step` with no name (and the EXIT trap) ends the last one, so
# a CI reader sees where the time went even when a step fails.
STEP_NAME=""
STEP_START=$SECONDS
step() {
  if [ -n "$STEP_NAME" ]; then
    echo "-- ${STEP_NAME}: $((SECONDS - STEP_START)) s (total ${SECONDS} s)"
  fi
  STEP_NAME="${1:-}"
  STEP_START=$SECONDS
  if [ -n "$STEP_NAME" ]; then echo "== $STEP_NAME"; fi
}
trap 'step' EXIT
