#!/usr/bin/env bash
# Runs the ring benchmark on fwdsim and on SystemC, alternating, on the
# configurations of docs/performance.md, and prints the ratio table.
# Usage: bench/ring_compare.sh [EVENTS] [REPEATS]   (defaults: 30000000 3)
# FWDSIM_BUILD_DIR=DIR builds and runs the release preset in DIR instead of
# build/release (so that several people can benchmark on one checkout).
# Each cell is the best (highest events/s) of REPEATS runs: on a shared,
# noisy machine the best run is the least disturbed one.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
events="${1:-30000000}"
repeats="${2:-3}"
bash scripts/deps.sh libsystemc-dev
build_dir="${FWDSIM_BUILD_DIR:-build/release}"
cmake --preset release -B "$build_dir" >/dev/null
cmake --build "$build_dir" -j2 --target fwdsim_bench systemc_ring >/dev/null
bin=$build_dir/bench/ring

best() { # prints the highest ev_per_s among RESULT lines on stdin
  sed -n 's/.*ev_per_s=\([0-9]*\).*/\1/p' | sort -n | tail -1
}

printf '%-10s %14s %14s %8s\n' "nodes/tok" "fwdsim ev/s" "systemc ev/s" "ratio"
for cfg in "64 1" "64 64" "4096 4096"; do
  f=""; s=""
  for ((r = 0; r < repeats; r++)); do
    f+="$("$bin/fwdsim-bench" ring $cfg "$events")"$'\n'
    s+="$("$bin/systemc-ring" ring $cfg "$events" 2>/dev/null | grep RESULT)"$'\n'
  done
  fb=$(printf '%s' "$f" | best); sb=$(printf '%s' "$s" | best)
  printf '%-10s %14s %14s %8.2f\n' "${cfg/ //}" "$fb" "$sb" "$(awk -v a="$fb" -v b="$sb" 'BEGIN { print a / b }')"
done
