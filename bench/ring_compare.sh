#!/usr/bin/env bash
# Runs the ring benchmark on fwdsim and on SystemC, alternating, on the
# configurations of docs/performance.md, and prints the ratio table.
# Usage: bench/ring_compare.sh [EVENTS] [REPEATS]   (defaults: 30000000 3)
# FWDSIM_BUILD_DIR=DIR builds and runs the release preset in DIR instead of
# build/release (so that several people can benchmark on one checkout).
# Each cell is the best (highest events/s) of REPEATS runs: on a shared,
# noisy machine the best run is the least disturbed one.  The last column is
# the median over the repeats of each fwdsim run's ratio to the SystemC run
# right after it, a second view of the same runs.
# Every run is pinned to one CPU (RING_CPU, default the last one): on a VM
# the virtual CPUs can differ in speed for minutes at a time, so a pair run
# on two different CPUs would measure the CPUs, not the kernels.
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
cpu="${RING_CPU:-$(($(nproc) - 1))}"
pin() { taskset -c "$cpu" "$@"; }

best() { # prints the highest ev_per_s among RESULT lines on stdin
  sed -n 's/.*ev_per_s=\([0-9]*\).*/\1/p' | sort -n | tail -1
}
pair_ratio() { # two RESULT lines (fwdsim, then SystemC) on stdin: their ratio
  sed -n 's/.*ev_per_s=\([0-9]*\).*/\1/p' | awk 'NR == 1 { f = $1 } NR == 2 { print f / $1 }'
}

printf '%-10s %14s %14s %8s %8s\n' "nodes/tok" "fwdsim ev/s" "systemc ev/s" "ratio" "median"
for cfg in "64 1" "64 64" "4096 4096"; do
  f=""; s=""; pairs=""
  for ((r = 0; r < repeats; r++)); do
    fr="$(pin "$bin/fwdsim-bench" ring $cfg "$events")"
    sr="$(pin "$bin/systemc-ring" ring $cfg "$events" 2>/dev/null | grep RESULT)"
    f+="$fr"$'\n'; s+="$sr"$'\n'
    pairs+="$(printf '%s\n%s\n' "$fr" "$sr" | pair_ratio)"$'\n'
  done
  fb=$(printf '%s' "$f" | best); sb=$(printf '%s' "$s" | best)
  med=$(printf '%s' "$pairs" | sort -g | awk '{v[NR] = $1} END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
  printf '%-10s %14s %14s %8.2f %8.2f\n' "${cfg/ //}" "$fb" "$sb" "$(awk -v a="$fb" -v b="$sb" 'BEGIN { print a / b }')" "$med"
done
