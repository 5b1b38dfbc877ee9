#!/usr/bin/env bash
# The README's second command (and CI's): install what is missing, build
# with AddressSanitizer + UndefinedBehaviorSanitizer and warnings as errors,
# and run every test.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/deps.sh qemu-system-arm python3-matplotlib slurm-wlm munge  # qemu: the differential GIC suite (docs/gic-differential.md); matplotlib: the plot tests; slurm-wlm, munge: the private single-node Slurm of the cluster test
cmake --preset asan >/dev/null
cmake --build --preset asan
ctest --preset asan "$@"
# In CI (or when FWDSIM_FUZZ_SECONDS is set) every libFuzzer target also runs
# for a bounded time; a crash fails the run (scripts/fuzz.sh).
if [ "${CI:-}" = true ] || [ -n "${FWDSIM_FUZZ_SECONDS:-}" ]; then
  bash scripts/fuzz.sh "${FWDSIM_FUZZ_SECONDS:-15}"
fi
