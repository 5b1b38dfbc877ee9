#!/usr/bin/env bash
# Issue #24, the sweep as a batch job runs it: --shard auto from Slurm's
# array variables, --points, --jobs from the CPUs the process may use,
# results that describe themselves (version, resolved scenario, profile
# digest, parameters, histogram buckets) in JSON Lines, CSV and the trace,
# --set overrides checked as the file's own values, progress lines in a
# log, and CLI11's option syntax.  One CTest case per CASE.
# Usage: batch_cli.sh FWDSIM SCENARIO CASE     (SCENARIO: a sweep of 6 points
# over devices.0.irqs.0's rate and delivery, with a second device)
set -uo pipefail
fwdsim=$1 scenario=$2 case_name=$3
if [[ ! -x /usr/bin/python3 ]]; then
  echo "SKIPPED: /usr/bin/python3 reads the result files here (scripts/test.sh installs it)"
  exit 77
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_rc() { [[ $1 == "$2" ]] || fail "exit status $1, expected $2 ($3)"; }
expect_in() { grep -q -- "$2" "$1" || { cat "$1" >&2; fail "'$2' not in $1"; }; }
# The Slurm variables of the environment the test runs in are not ours.
unset SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_COUNT SLURM_ARRAY_TASK_MIN SLURM_ARRAY_TASK_MAX SLURM_ARRAY_TASK_STEP \
      SLURM_CPUS_PER_TASK FWDSIM_JOBS FWDSIM_PROGRESS
py() { /usr/bin/python3 - "$@"; }

case $case_name in
shard-auto)
  "$fwdsim" sweep "$scenario" --shard auto --quiet --json x.jsonl 2> err
  expect_rc $? 1 "--shard auto outside an array"; expect_in err "SLURM_ARRAY_TASK_ID.*is not set"
  SLURM_ARRAY_TASK_ID=0 "$fwdsim" sweep "$scenario" --shard auto --quiet --json x.jsonl 2> err
  expect_rc $? 1 "no task count"; expect_in err "SLURM_ARRAY_TASK_COUNT.*is not set"
  SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=3 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=5 \
    "$fwdsim" sweep "$scenario" --shard auto --quiet --json x.jsonl 2> err
  expect_rc $? 1 "an array with gaps (--array=1,3,5)"; expect_in err "the array has gaps"
  SLURM_ARRAY_TASK_ID=x SLURM_ARRAY_TASK_COUNT=3 "$fwdsim" sweep "$scenario" --shard auto --quiet 2> err
  expect_rc $? 1 "a task id that is no number"; expect_in err "SLURM_ARRAY_TASK_ID.*not a number"
  [[ ! -e x.jsonl ]] || fail "a refused --shard auto wrote a file"
  "$fwdsim" sweep "$scenario" --quiet --json whole.jsonl
  # --array=1-3: task I is shard I-1 of 3, as --shard I-1/3 runs it.
  for i in 1 2 3; do
    SLURM_ARRAY_TASK_ID=$i SLURM_ARRAY_TASK_COUNT=3 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=3 \
      "$fwdsim" sweep "$scenario" --shard auto --quiet --json "auto$i.jsonl" || fail "task $i"
    "$fwdsim" sweep "$scenario" --shard $((i - 1))/3 --quiet --json "explicit$i.jsonl"
    cmp "auto$i.jsonl" "explicit$i.jsonl" || fail "task $i of --array=1-3 is not shard $((i - 1))/3"
  done
  "$fwdsim" merge -o merged.jsonl auto1.jsonl auto2.jsonl auto3.jsonl
  cmp merged.jsonl whole.jsonl || fail "the auto shards merged differ from the whole sweep"
  # A shard writes the scenario's own outputs under a name of its own.
  sed 's/^vms:/outputs: {json: res.jsonl, csv: res.csv}\nvms:/' "$scenario" > own.yaml
  SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=2 "$fwdsim" sweep own.yaml --shard auto --quiet
  [[ -s res.shard-1-of-2.jsonl && -s res.shard-1-of-2.csv ]] || fail "shard 1/2 did not write res.shard-1-of-2.*"
  [[ ! -e res.jsonl && ! -e res.csv ]] || fail "a shard wrote the whole grid's outputs"
  ;;
points)
  [[ $("$fwdsim" sweep "$scenario" --points) == 6 ]] || fail "--points: $("$fwdsim" sweep "$scenario" --points)"
  [[ $("$fwdsim" sweep "$scenario" --points --shard 1/4) == 2 ]] || fail "--points of shard 1/4 (points 1 and 5)"
  [[ $("$fwdsim" sweep "$scenario" --points --shard 3/4) == 1 ]] || fail "--points of shard 3/4"
  sed '/^sweep:/,$d' "$scenario" > flat.yaml
  [[ $("$fwdsim" sweep flat.yaml --points) == 1 ]] || fail "--points of a file without sweep"
  sed 's/^vms:/outputs: {json: res.jsonl}\nvms:/' "$scenario" > own.yaml
  "$fwdsim" sweep own.yaml --points > /dev/null
  [[ ! -e res.jsonl && ! -e res.jsonl.partial ]] || fail "--points ran the sweep"
  ;;
jobs-default)
  cpus=$(nproc)
  "$fwdsim" sweep "$scenario" --quiet --json a.jsonl 2> err
  expect_in err "on $cpus thread.* ($cpus CPUs\? usable, from the affinity mask)"
  taskset -c 0 "$fwdsim" sweep "$scenario" --quiet --json b.jsonl 2> err
  expect_in err "on 1 thread (1 CPU usable, from the affinity mask)"
  if (( cpus >= 2 )); then
    SLURM_CPUS_PER_TASK=1 "$fwdsim" sweep "$scenario" --quiet --json c.jsonl 2> err
    expect_in err "on 1 thread (1 CPU usable, from SLURM_CPUS_PER_TASK)"
  fi
  FWDSIM_JOBS=3 "$fwdsim" sweep "$scenario" --quiet --json d.jsonl 2> err
  expect_in err "on 3 threads"
  FWDSIM_JOBS=3 "$fwdsim" sweep "$scenario" --quiet --json e.jsonl --jobs=2 2> err
  expect_in err "on 2 threads"
  for f in b c d e; do [[ ! -e $f.jsonl ]] || cmp a.jsonl $f.jsonl || fail "$f.jsonl differs with other threads"; done
  "$fwdsim" sweep "$scenario" --help > help
  expect_in help "FWDSIM_JOBS"; expect_in help "here $cpus"
  ;;
self-describing)
  version=$("$fwdsim" --version | awk '{print $2}')
  [[ -n $version ]] || fail "fwdsim --version says no version"
  "$fwdsim" sweep "$scenario" --quiet --json r.jsonl --csv r.csv
  "$fwdsim" sweep "$scenario" --quiet --json again.jsonl --csv again.csv
  cmp r.jsonl again.jsonl && cmp r.csv again.csv || fail "the same sweep twice gave other bytes"
  "$fwdsim" run "$scenario" --quiet --duration-us 1500 --trace t.json --json t.jsonl
  "$fwdsim" run "$scenario" --quiet --duration-us 1500 --trace t2.json
  cmp t.json t2.json || fail "the same run twice gave another trace"
  for f in r.jsonl r.csv t.json; do
    ! grep -qF "$tmp" $f || fail "$f holds the folder it was written in"
    # (a host name the scenario holds too, as "vm" in "vm0", says nothing)
    grep -qF "$(hostname)" "$scenario" || ! grep -qF "$(hostname)" $f || fail "$f holds the host's name"
  done
  py "$version" <<'PY' || fail "the result files do not describe themselves"
import csv, json, sys
version = sys.argv[1]
recs = [json.loads(l) for l in open("r.jsonl")]
rows = list(csv.DictReader(open("r.csv")))
assert len(recs) == 6 and len(rows) == 12, (len(recs), len(rows))
for r in recs:
    assert r["fwdsim"] == version, r["fwdsim"]
    res = r["resolved"]
    # every parameter, the defaults too (the file names no gic, no guest)
    for key in ("seed", "clock_hz", "duration_us", "warmup_us", "profile", "host", "gic", "vms", "guest", "devices", "vmm"):
        assert key in res, key
    assert res["gic"] == {"irqs": 256, "lrs": 4, "priority_bits": 5}, res["gic"]
    assert res["guest"]["handler"] == {"kind": "fixed", "cycles": 2000}
    irq0 = res["devices"][0]["irqs"][0]
    assert float(r["params"]["devices.0.irqs.0.traffic.rate_per_s"]) == irq0["traffic"]["rate_per_s"]
    assert r["params"]["devices.0.irqs.0.delivery"] == irq0["delivery"]
    assert res["seed"] == r["seed"] and len(r["profile_digest"]) == 16
    for irq in r["irqs"]:
        for h in ("latency_to_ack", "latency_to_eoi", "latency_to_deactivate"):
            hist = irq[h]
            b = hist["buckets"]
            assert sum(c for lo, hi, c in b) == hist["count"], (h, hist)
            assert all(lo <= hi for lo, hi, c in b) and all(b[k][1] < b[k + 1][0] for k in range(len(b) - 1))
            if hist["count"]:
                assert b[0][0] <= hist["min"] <= b[0][1] and b[-1][0] <= hist["max"] <= b[-1][1]
for row in rows:
    rec = recs[int(row["point"])]
    assert row["fwdsim"] == version and row["profile_digest"] == rec["profile_digest"]
    assert json.loads(row["resolved"]) == rec["resolved"]
    irq = next(i for i in rec["irqs"] if i["name"] == row["irq"])
    def bucket(t):  # LOW-HIGH:COUNT, or VALUE:COUNT
        span, count = t.split(":")
        low, _, high = span.partition("-")
        return [int(low), int(high or low), int(count)]
    assert [bucket(t) for t in row["ack_buckets"].split()] == irq["latency_to_ack"]["buckets"], row["irq"]
trace = json.load(open("t.json"))
meta = trace["otherData"]
run = json.loads(open("t.jsonl").readline())
assert meta["fwdsim"] == version and meta["profile_digest"] == run["profile_digest"]
assert meta["resolved"] == run["resolved"] and meta["resolved"]["duration_us"] == 1500
assert meta["params"] == {} and trace["traceEvents"]
# The resolved scenario of point 3 is a scenario file: run alone it gives point 3's results.
json.dump(recs[3]["resolved"], open("point3.yaml", "w"))
PY
  # The files a scenario names appear as it wrote them, whatever path fwdsim was given.
  mkdir sub
  cp "$(dirname "$scenario")/../../../profiles/default.profile" sub/my.profile
  sed 's/^vms:/profile: my.profile\nvms:/' "$scenario" > sub/s.yaml
  "$fwdsim" run sub/s.yaml --quiet --json from_here.jsonl --duration-us 1000
  (cd sub && "$fwdsim" run s.yaml --quiet --json ../from_sub.jsonl --duration-us 1000)
  "$fwdsim" run "$tmp/sub/s.yaml" --quiet --json absolute.jsonl --duration-us 1000
  cmp from_here.jsonl from_sub.jsonl && cmp from_here.jsonl absolute.jsonl ||
    fail "the same scenario named by another path gave other bytes"
  grep -q '"profile":"my.profile"' from_here.jsonl || fail "the profile is not as the file wrote it"
  "$fwdsim" run point3.yaml --quiet --json p3.jsonl
  py <<'PY' || fail "the resolved scenario of point 3 does not run to point 3's results"
import json
sweep = [json.loads(l) for l in open("r.jsonl")][3]
alone = json.loads(open("p3.jsonl").readline())
assert alone["irqs"] == sweep["irqs"], "irqs differ"
assert alone["resolved"] == sweep["resolved"], "resolved differs"
PY
  ;;
set-overrides)
  # An override of a swept key, or of a list holding one, is refused.
  "$fwdsim" sweep "$scenario" --quiet --set devices.0.irqs.0.traffic.rate_per_s=1000 2> err
  expect_rc $? 1 "--set of a swept key"
  expect_in err "--set devices.0.irqs.0.traffic.rate_per_s: the sweep varies devices.0.irqs.0.traffic.rate_per_s"
  "$fwdsim" sweep "$scenario" --quiet --set 'devices.0.irqs=[{host_irq: 48}]' 2> err
  expect_rc $? 1 "--set of a list holding a swept key"; expect_in err "the sweep varies"
  # Any other parameter, written in the file or left at its default.
  "$fwdsim" sweep "$scenario" --quiet --json base.jsonl
  "$fwdsim" sweep "$scenario" --quiet --json set.jsonl --set devices.1.irqs.0.traffic.rate_per_s=1000 --set=gic.lrs=2 \
    || fail "valid overrides refused"
  py <<'PY' || fail "the overrides are not in the results"
import json
base = [json.loads(l) for l in open("base.jsonl")]
over = [json.loads(l) for l in open("set.jsonl")]
for b, o in zip(base, over):
    assert o["params"] == b["params"], "the swept values moved"
    assert o["resolved"]["devices"][1]["irqs"][0]["traffic"]["rate_per_s"] == 1000
    assert o["resolved"]["gic"]["lrs"] == 2 and b["resolved"]["gic"]["lrs"] == 4
    assert o["resolved"]["devices"][0] == b["resolved"]["devices"][0]
    assert o["irqs"][1]["raised"] < b["irqs"][1]["raised"], "device 1 still raises 20 k/s"
PY
  # A shard run with overrides is of another grid than one without.
  "$fwdsim" sweep "$scenario" --quiet --shard 0/2 --json s0.jsonl
  "$fwdsim" sweep "$scenario" --quiet --shard 1/2 --json s1.jsonl --set gic.lrs=2
  "$fwdsim" merge -o m.jsonl s0.jsonl s1.jsonl 2> err
  expect_rc $? 1 "shards of other overrides merged"; expect_in err "another scenario file"
  # Checked as the file's own value, the message naming --set and the key.
  sed 's/rate_per_s: 20000/rate_per_s: 0/' "$scenario" > zero.yaml
  "$fwdsim" sweep zero.yaml --quiet 2> file_err; expect_rc $? 1 "a zero rate in the file"
  "$fwdsim" sweep "$scenario" --quiet --set devices.1.irqs.0.traffic.rate_per_s=0 2> err
  expect_rc $? 1 "a zero rate by --set"
  expect_in err "--set devices.1.irqs.0.traffic.rate_per_s: $(sed 's/.*rate_per_s: //' file_err)"
  for bad in "gic.lrz=2|--set gic.lrz: unknown key" "devices.5.name=x|--set devices.5.name: '5' is not a position" \
             "gic.lrs=0|--set gic.lrs: must be 1..64" "host.cpus=two|--set host.cpus: cannot read 'two'" \
             "sweep.seed=[1]|--set sweep.seed: the sweep section" "vms.0.pin=[1, 7]|--set vms.0.pin: CPU 7 does not exist"; do
    "$fwdsim" run "$scenario" --quiet --set "${bad%%|*}" 2> err
    expect_rc $? 1 "--set ${bad%%|*}"; expect_in err "${bad#*|}"
  done
  # A consequence elsewhere names the key it broke and the override behind it.
  "$fwdsim" run "$scenario" --quiet --set clock_hz=1000 2> err
  expect_rc $? 1 "a clock too slow for the rates"; expect_in err "rate_per_s: with --set clock_hz=1000"
  "$fwdsim" run "$scenario" --quiet --set gic.lrs 2> err
  expect_rc $? 2 "--set without '='"; expect_in err "expected KEY=VALUE"
  "$fwdsim" run "$scenario" --quiet --json one.jsonl --set seed=9 --set devices.0.irqs.0.delivery=userspace
  py <<'PY' || fail "run --set is not in the result"
import json
r = json.loads(open("one.jsonl").readline())
assert r["seed"] == 9 and r["resolved"]["devices"][0]["irqs"][0]["delivery"] == "userspace"
assert r["irqs"][0]["delivery"] == "userspace"
PY
  ;;
progress)
  # stderr is a file here, as in a batch job: lines, not a bar.
  "$fwdsim" sweep "$scenario" --jobs 1 --progress 0.01 --json p.jsonl > table 2> log
  expect_in log "fwdsim sweep: 6 of 6 points (the whole grid) on 1 thread"
  grep -qE "^fwdsim sweep: [0-6]/6 points done, [0-9]+s elapsed, (about [0-9hms]+ left|time left unknown yet|none left)$" log ||
    { cat log >&2; fail "no periodic progress line"; }
  grep -qE "^fwdsim sweep: 6/6 points finished, [0-9]+s elapsed, none left$" log || fail "no last line"
  ! grep -q "points" table || fail "progress in the table on stdout"
  ! grep -q $'\r' log || fail "a terminal's bar in a log"
  FWDSIM_PROGRESS=0 "$fwdsim" sweep "$scenario" --jobs 1 --json q.jsonl > /dev/null 2> quiet
  [[ ! -s quiet ]] || fail "FWDSIM_PROGRESS=0 still logs: $(cat quiet)"
  cmp p.jsonl q.jsonl || fail "progress lines changed the results"
  "$fwdsim" sweep "$scenario" --progress -1 2> err; expect_rc $? 2 "--progress -1"
  ;;
cli11)
  "$fwdsim" sweep "$scenario" --quiet --json=eq.jsonl --csv=eq.csv --jobs=2 || fail "--x=v is refused"
  [[ -s eq.jsonl && -s eq.csv ]] || fail "--json=FILE wrote nothing"
  "$fwdsim" run --help > help; expect_rc $? 0 "run --help"
  expect_in help "--duration-us US"; expect_in help "microseconds"; expect_in help "--set KEY=VALUE"
  "$fwdsim" sweep --help > help
  expect_in help "--progress SECONDS"; expect_in help "default 5"; expect_in help "FWDSIM_PROGRESS"
  "$fwdsim" sweep "$scenario" --bogus 2> err; expect_rc $? 2 "an unknown option"; expect_in err "(see --help)"
  "$fwdsim" sweep 2> err; expect_rc $? 2 "no file"; expect_in err "FILE is required"
  "$fwdsim" run "$scenario" --seed=-1 2> err; expect_rc $? 2 "--seed=-1"; expect_in err "--seed needs a number, not '-1'"
  ;;
*) fail "unknown case $case_name" ;;
esac
echo "ok: $case_name"
