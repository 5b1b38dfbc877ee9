#!/usr/bin/env bash
# fwdsim slurm without a cluster: the array script run once per task (as
# Slurm would, with SLURM_ARRAY_TASK_ID set) and then the merge script give
# the unsharded sweep's results byte for byte; the scripts say what Slurm
# needs (array size, CPUs, dependency-safe merge); bad requests are refused
# with a message and leave no script.
# Usage: slurm_scripts.sh FWDSIM SCENARIO
set -euo pipefail
fwdsim=$1 scenario=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$tmp"

"$fwdsim" sweep "$scenario" --jobs 2 --quiet --json whole.jsonl --csv whole.csv
"$fwdsim" slurm "$scenario" --shards 4 --jobs-per-shard 2 --out "$tmp/run" --sbatch --time=10 > said
grep -q "6 points of .* in 4 array tasks of 2 CPUs" said || fail "the summary is wrong: $(cat said)"
grep -qF "jid=\$(sbatch --parsable '$tmp/run/sweep.sbatch')" said || fail "no array submission: $(cat said)"
grep -qF "sbatch --dependency=afterok:\"\${jid%%;*}\" '$tmp/run/merge.sbatch'" said || fail "no merge submission: $(cat said)"
a=run/sweep.sbatch m=run/merge.sbatch
[ -x "$a" ] && [ -x "$m" ] || fail "the scripts are not executable"
grep -qx "#SBATCH --array=0-3" "$a" || fail "array size: $(grep array "$a")"
grep -qx "#SBATCH --cpus-per-task=2" "$a" || fail "CPUs per task"
grep -qx "#SBATCH --time=10" "$a" && grep -qx "#SBATCH --time=10" "$m" || fail "--sbatch is not in both scripts"
grep -qx "#SBATCH --kill-on-invalid-dep=yes" "$m" || fail "a failed array would leave the merge pending"
grep -qx "#SBATCH --chdir=$tmp" "$a" || fail "the tasks do not run where fwdsim slurm ran"
bash -n "$a" && bash -n "$m" || fail "a script is not valid bash"
if bash "$a" 2> err; then fail "the array script ran outside a job array"; fi
grep -q "submit this script with sbatch" err || fail "no message outside a job array"

# Each task in turn, as the array would run them, then the merge.
for i in 0 1 2 3; do SLURM_ARRAY_TASK_ID=$i bash "$a"; done
for i in 0 1 2 3; do [ -s "run/shard-$i.jsonl" ] && [ -s "run/shard-$i.csv" ] || fail "shard $i wrote nothing"; done
[ "$(cat run/shard-*.jsonl | wc -l)" = 6 ] || fail "the shards do not hold the 6 points once each"
[ ! -e headline.csv ] && [ ! -e outputs.csv ] || fail "a shard wrote the scenario's own outputs"
bash "$m" > merged.out
cmp whole.jsonl run/results.jsonl || fail "the merged JSON Lines differ from the whole sweep"
cmp whole.csv run/results.csv || fail "the merged CSV differs from the whole sweep"

# Refused, with a message naming the option and no script left behind.
touch afile
for args in "--shards 0" "--shards 7" "--shards x" "--shards -1" "" "--shards 2 --jobs-per-shard 0" \
            "--shards 2 --fwdsim $tmp/nothing" "--shards 2 --sbatch time=5" "--shards 2 --bogus"; do
  # shellcheck disable=SC2086
  if "$fwdsim" slurm "$scenario" $args --out "$tmp/refused" > /dev/null 2> err; then fail "accepted: $args"; fi
  grep -q "fwdsim slurm: " err || fail "no message for: $args ($(cat err))"
  if grep -qE "terminate|AddressSanitizer|runtime error" err; then fail "crashed on: $args"; fi
  [ ! -e refused/sweep.sbatch ] || fail "a script was written for: $args"
done
grep -q "fwdsim slurm: .*--shards: 7 array tasks for 6 sweep points" <("$fwdsim" slurm "$scenario" --shards 7 2>&1) ||
  fail "too many shards: the message does not say why"
for out in "$tmp/afile/sub" "$tmp/afile" "$tmp/a%b"; do
  if "$fwdsim" slurm "$scenario" --shards 2 --out "$out" > /dev/null 2> err; then fail "accepted --out $out"; fi
  grep -q -- "--out" err || fail "the message does not name --out: $(cat err)"
done
if "$fwdsim" slurm "$tmp/none.yaml" --shards 1 2> err; then fail "a missing scenario was accepted"; fi
grep -q "none.yaml" err || fail "the message does not name the file"
"$fwdsim" slurm "$scenario" --shards 6 --out one-each > /dev/null || fail "one point per task was refused"
echo "fwdsim slurm scripts: all checks passed"
