#!/usr/bin/env bash
# Runs the whole test suite and ends with one summary line ("N passed, N failed")
# counted over every cargo test binary, so a reader (or CI) sees the total at a glance.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --all-targets --locked 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if [ "$status" -eq 0 ]; then
  cargo test --workspace --doc --locked 2>&1 | tee -a "$log"
  status=${PIPESTATUS[0]}
fi
if [ "$status" -eq 0 ]; then
  # The guest workspace's own tests (placement cases of the shipped policies) run
  # natively; its build directory sits beside the host's.
  (cd plugins && CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-../target}/plugins-native" \
    cargo test --workspace --locked) 2>&1 | tee -a "$log"
  status=${PIPESTATUS[0]}
fi
if [ "$status" -eq 0 ]; then
  # The worked example of a custom policy is tested as its author would.
  (cd examples/scheduler-policy && CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-../../target}/example-policy" \
    cargo test --locked) 2>&1 | tee -a "$log"
  status=${PIPESTATUS[0]}
fi
if [ "$status" -eq 0 ]; then
  # And the worked example of a custom controller.
  (cd examples/custom-controller && CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-../../target}/example-controller-native" \
    cargo test --locked) 2>&1 | tee -a "$log"
  status=${PIPESTATUS[0]}
fi
counts=$(grep -E '^test result:' "$log" | sed -E 's/.* ([0-9]+) passed; ([0-9]+) failed.*/\1 \2/')
passed=$(echo "$counts" | awk '{s+=$1} END {print s+0}')
failed=$(echo "$counts" | awk '{s+=$2} END {print s+0}')
echo
echo "tests: ${passed} passed, ${failed} failed"
exit "$status"
