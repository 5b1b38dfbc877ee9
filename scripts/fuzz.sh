#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time each (default 30 s).
# Usage: scripts/fuzz.sh [SECONDS]
# The seed is fixed (FWDSIM_FUZZ_SEED, default 1) so that CI explores the same
# inputs on every run and a failure can be replayed; set it to explore more.
# One input running longer than FWDSIM_FUZZ_INPUT_TIMEOUT seconds (default 25)
# is a hang and fails the script like a crash (libFuzzer's timeout-* file), and
# `timeout` bounds each target even if libFuzzer itself stops responding.
# New interesting inputs go to build/fuzz/corpus/<target>/ (not the repo);
# a crash leaves its input in build/fuzz/crash-* and fails the script: copy
# it to fuzz/regressions/<target>/ so it replays in every test run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seconds="${1:-30}"
seed="${FWDSIM_FUZZ_SEED:-1}"
input_timeout="${FWDSIM_FUZZ_INPUT_TIMEOUT:-25}"
bash scripts/deps.sh clang libclang-rt-14-dev
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
status=0
for bin in build/fuzz/fuzz/fwdsim_fuzz_*; do
  name="${bin##*/fwdsim_fuzz_}"
  work="build/fuzz/corpus/$name"
  mkdir -p "$work"
  echo "fuzz: $name for ${seconds}s"
  if ! timeout --kill-after=10 $((seconds + 2 * input_timeout + 60)) \
        "$bin" -max_total_time="$seconds" -seed="$seed" -timeout="$input_timeout" \
        -print_final_stats=1 -artifact_prefix=build/fuzz/ \
        "$work" "fuzz/corpus/$name" 2>"build/fuzz/$name.log"; then
    echo "fuzz: $name FOUND A CRASH OR A HANG (see build/fuzz/$name.log and build/fuzz/crash-* / timeout-*)"
    status=1
  fi
  grep -E "stat::number_of_executed_units|Done [0-9]+ runs" "build/fuzz/$name.log" | tail -2 | sed "s/^/fuzz: $name: /"
done
exit $status
