#!/usr/bin/env bash
# Issue #22: the fwdsim front end (run/sweep/merge/vmm-script) as a user
# drives it; #24: gic-script and vmm-script take CLI11's option syntax.  Usage: cli_test.sh FWDSIM CASE   (one CTest case per CASE)
set -uo pipefail
fwdsim=$1
case_name=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

fail() { echo "FAIL: $*" >&2; exit 1; }
expect_rc() { [[ $1 == "$2" ]] || fail "exit status $1, expected $2 ($3)"; }
expect_in() { grep -q -- "$2" "$1" || { cat "$1" >&2; fail "'$2' not in $1"; }; }

# A sweep of six points; each runs long enough (tenths of a second under
# the sanitizers) to be interrupted in the middle of the grid.
cat > grid.yaml <<'EOF'
scenario: cli
duration_us: 40000
vms: [{name: vm0}]
devices:
  - {name: d, vm: vm0, irqs: [{host_irq: 48, traffic: {kind: periodic, rate_per_s: 100000}}]}
sweep:
  seed: [1, 2, 3, 4, 5, 6]
EOF

records() { [[ -f $1 ]] && wc -l < "$1" || echo 0; }

case $case_name in
interrupt-and-resume)
  for sig in INT TERM; do
    rm -f part.jsonl part.jsonl.partial
    "$fwdsim" sweep grid.yaml --jobs 1 --quiet --json part.jsonl 2> err.txt &
    pid=$!
    for _ in $(seq 1 600); do [[ $(records part.jsonl.partial) -ge 2 ]] && break; sleep 0.05; done
    kill -s "$sig" "$pid"
    wait "$pid"; rc=$?
    [[ $sig == INT ]] && expect_rc $rc 130 "SIGINT" || expect_rc $rc 143 "SIGTERM"
    expect_in err.txt "interrupted by SIG$sig"
    expect_in err.txt "--resume runs the rest"
    n=$(records part.jsonl)
    (( n >= 2 && n < 6 )) || fail "$n points kept after SIG$sig"
    [[ ! -e part.jsonl.partial ]] || fail ".partial left behind"
  done
  "$fwdsim" sweep grid.yaml --jobs 2 --quiet --json part.jsonl --resume 2> err.txt
  expect_rc $? 0 "--resume"
  "$fwdsim" sweep grid.yaml --jobs 2 --quiet --json whole.jsonl
  cmp part.jsonl whole.jsonl || fail "a resumed sweep differs from an uninterrupted one"
  # A file of another grid (here: another duration) is not resumed into.
  "$fwdsim" sweep grid.yaml --quiet --json part.jsonl --resume --duration-us 30000 2> err.txt
  expect_rc $? 1 "--resume over another grid"
  expect_in err.txt "holds another grid"
  ;;
sigkill-keeps-finished-points)
  "$fwdsim" sweep grid.yaml --jobs 1 --quiet --json k.jsonl --csv k.csv &
  pid=$!
  for _ in $(seq 1 600); do [[ $(records k.jsonl.partial) -ge 2 ]] && break; sleep 0.05; done
  kill -s KILL "$pid"; wait "$pid"
  n=$(records k.jsonl.partial)
  (( n >= 2 )) || fail "only $n points on disk after SIGKILL"
  "$fwdsim" sweep grid.yaml --quiet --json k.jsonl --csv k.csv --resume 2> err.txt
  expect_rc $? 0 "--resume from .partial"
  "$fwdsim" sweep grid.yaml --quiet --json whole.jsonl --csv whole.csv
  cmp k.jsonl whole.jsonl && cmp k.csv whole.csv || fail "resumed files differ"
  ;;
broken-pipe-keeps-files)
  "$fwdsim" sweep grid.yaml --json p.jsonl --csv p.csv | head -1 > /dev/null
  expect_rc "${PIPESTATUS[0]}" 0 "table piped into head"
  [[ $(records p.jsonl) == 6 ]] || fail "p.jsonl holds $(records p.jsonl) records"
  "$fwdsim" run grid.yaml --json r.jsonl | head -1 > /dev/null
  expect_rc "${PIPESTATUS[0]}" 0 "run piped into head"
  [[ $(records r.jsonl) == 1 ]] || fail "r.jsonl missing"
  ;;
every-point-validated-first)
  # The last point hangs (a period of 0 cycles): refused before any runs.
  sed 's/seed: \[1, 2, 3, 4, 5, 6\]/devices.0.irqs.0.traffic.rate_per_s: [1000, 1000, 1000, 1000, 1000, 1e12]/' grid.yaml > bad.yaml
  sed -i 's/duration_us: 40000/duration_us: 1e10/' bad.yaml
  timeout 60 "$fwdsim" sweep bad.yaml --quiet --json v.jsonl 2> err.txt
  expect_rc $? 1 "a bad last point"
  expect_in err.txt "bad.yaml:7: devices.0.irqs.0.traffic.rate_per_s: sweep point 5"
  [[ ! -e v.jsonl && ! -e v.jsonl.partial ]] || fail "an output was written"
  ;;
outputs-checked-before-the-run)
  "$fwdsim" run grid.yaml --quiet --json /dev/full 2> err.txt
  expect_rc $? 1 "/dev/full"
  expect_in err.txt "No space left on device"
  "$fwdsim" sweep grid.yaml --quiet --csv /dev/full 2> err.txt
  expect_rc $? 1 "/dev/full (sweep)"
  "$fwdsim" run grid.yaml --quiet --json same.out --csv same.out 2> err.txt
  expect_rc $? 1 "one path for --json and --csv"
  expect_in err.txt "is also --json"
  "$fwdsim" run grid.yaml --quiet --json ./grid.yaml 2> err.txt
  expect_rc $? 1 "the scenario as output"
  # A bad --csv after a good --json: refused before running, nothing written.
  "$fwdsim" run grid.yaml --quiet --json good.jsonl --csv no/such/dir/x.csv 2> err.txt
  expect_rc $? 1 "an unwritable --csv"
  [[ ! -e good.jsonl && ! -e good.jsonl.partial ]] || fail "good.jsonl written without its pair"
  # outputs.trace in the file is written by run, as --trace is.
  sed 's/^vms:/outputs: {trace: t.json}\nvms:/' grid.yaml > traced.yaml
  "$fwdsim" run traced.yaml --quiet --duration-us 100 || fail "run with outputs.trace"
  grep -q traceEvents t.json || fail "outputs.trace not written"
  mkdir outdir
  "$fwdsim" run grid.yaml --quiet --trace outdir 2> err.txt
  expect_rc $? 1 "a directory as --trace"
  expect_in err.txt "is a directory"
  ;;
overrides-and-inputs-refused)
  "$fwdsim" sweep grid.yaml --quiet --seed 3 2> err.txt
  expect_rc $? 1 "--seed over a swept seed"
  expect_in err.txt "the sweep varies seed"
  sed 's/seed: \[/duration_us: [1000, /' grid.yaml > dur.yaml
  "$fwdsim" sweep dur.yaml --quiet --duration-us 500 2> err.txt
  expect_rc $? 1 "--duration-us over a swept duration"
  "$fwdsim" run grid.yaml --quiet --duration-us 1e300 2> err.txt
  expect_rc $? 1 "--duration-us 1e300"
  "$fwdsim" sweep grid.yaml --quiet --jobs 4000000000 2> err.txt
  expect_rc $? 2 "--jobs past any thread limit"; expect_in err.txt "more than 1024 threads"
  mkdir d
  "$fwdsim" run d 2> err.txt; expect_rc $? 1 "run DIR"; expect_in err.txt "is a directory"
  "$fwdsim" sweep d 2> err.txt; expect_rc $? 1 "sweep DIR"
  "$fwdsim" merge -o m.jsonl d 2> err.txt; expect_rc $? 1 "merge DIR"; expect_in err.txt "is a directory"
  "$fwdsim" vmm-script d 2> err.txt; expect_rc $? 1 "vmm-script DIR"; expect_in err.txt "is a directory"
  "$fwdsim" vmm-script --config d - < /dev/null 2> err.txt; expect_rc $? 1 "vmm-script --config DIR"
  ;;
vmm-script-run-past-the-end-of-time)
  out=$(printf 'run 4611686018427387904\nrun 4611686018427387904\nrun 4611686018427387904\nrun 0\n' | timeout 60 "$fwdsim" vmm-script -)
  expect_rc $? 0 "vmm-script"
  [[ $(sed -n 2p <<< "$out") == "OK now=9223372036854775808 serviced=0" ]] || fail "second run: $out"
  [[ $(sed -n 3p <<< "$out") == "ERR EINVAL" ]] || fail "a run past 2^63 cycles: $out"
  ;;
script-tools-options)
  # gic-script: --x=v and --x v are one option; GICD_TYPER shows it took.
  echo "readl 0x08000004" | "$fwdsim" gic-script --irqs=64 --cpus=2 - > eq.txt; expect_rc $? 0 "gic-script --irqs=64"
  echo "readl 0x08000004" | "$fwdsim" gic-script --irqs 64 --cpus 2 - > sp.txt
  [[ $(cat eq.txt) == "OK 0x00000021" ]] || fail "GICD_TYPER with 64 IRQs on 2 CPUs: $(cat eq.txt)"
  cmp eq.txt sp.txt || fail "--irqs=64 and --irqs 64 differ"
  "$fwdsim" gic-script --help > help; expect_rc $? 0 "gic-script --help"
  expect_in help "--irqs N"; expect_in help "(default 256)"; expect_in help "--priority-bits N"; expect_in help "(default 5)"
  expect_in help "readl ADDR"
  "$fwdsim" gic-script --irqs=x - < /dev/null 2> err.txt; expect_rc $? 2 "gic-script --irqs=x"
  expect_in err.txt "fwdsim gic-script: --irqs needs a number, not 'x'"
  "$fwdsim" gic-script --bogus - < /dev/null 2> err.txt; expect_rc $? 2 "gic-script --bogus"; expect_in err.txt "(see --help)"
  "$fwdsim" gic-script 2> err.txt; expect_rc $? 2 "gic-script without a script"; expect_in err.txt "FILE is required"
  # vmm-script: --config=FILE is read (pci0's MSI-X vectors), as --config FILE is.
  printf 'open_container\nopen_group 2\nset_container 4 3\nset_iommu 3\nget_device 4 pci0\nirq_info 5 2\n' > msix.vmm
  echo "pci0.msix_vectors=4" > four.cfg
  "$fwdsim" vmm-script --config=four.cfg msix.vmm > eq.txt; expect_rc $? 0 "vmm-script --config=FILE"
  "$fwdsim" vmm-script --config four.cfg msix.vmm > sp.txt
  [[ $(tail -1 eq.txt) == "OK count=4 flags=EVENTFD|NORESIZE" ]] || fail "--config=FILE not applied: $(cat eq.txt)"
  cmp eq.txt sp.txt || fail "--config=FILE and --config FILE differ"
  "$fwdsim" vmm-script --help > help; expect_rc $? 0 "vmm-script --help"
  expect_in help "--config FILE"; expect_in help "pci0.msix_vectors=8"; expect_in help "open_container"
  "$fwdsim" vmm-script --config 2> err.txt; expect_rc $? 2 "vmm-script --config without a file"; expect_in err.txt "--config"
  "$fwdsim" vmm-script a b 2> err.txt; expect_rc $? 2 "two scripts"; expect_in err.txt "not expected: b"
  ;;
merge-checks-the-shards)
  for i in 0 1 2; do "$fwdsim" sweep grid.yaml --quiet --shard $i/3 --json s$i.jsonl --csv s$i.csv || fail "shard $i"; done
  "$fwdsim" sweep grid.yaml --quiet --json whole.jsonl --csv whole.csv
  "$fwdsim" merge -o m.jsonl s2.jsonl s0.jsonl s1.jsonl && cmp m.jsonl whole.jsonl || fail "merged JSON differs"
  "$fwdsim" merge -o m.csv s2.csv s0.csv s1.csv && cmp m.csv whole.csv || fail "merged CSV differs"
  "$fwdsim" merge -o again.jsonl m.jsonl && cmp again.jsonl whole.jsonl || fail "a merged file does not merge again"
  "$fwdsim" merge -o m2.jsonl s0.jsonl s1.jsonl 2> err.txt
  expect_rc $? 1 "a shard left out"; expect_in err.txt "points are missing"
  [[ ! -e m2.jsonl ]] || fail "an incomplete merge was written"
  "$fwdsim" sweep grid.yaml --quiet --shard 2/3 --duration-us 30000 --json other.jsonl
  "$fwdsim" merge -o m3.jsonl s0.jsonl s1.jsonl other.jsonl 2> err.txt
  expect_rc $? 1 "a shard run with another --duration-us"; expect_in err.txt "another scenario file"
  head -c 300 s2.jsonl > cut.jsonl
  "$fwdsim" merge -o m4.jsonl s0.jsonl s1.jsonl cut.jsonl 2> err.txt
  expect_rc $? 1 "a truncated shard"; expect_in err.txt "cut short"
  ;;
*) fail "unknown case $case_name" ;;
esac
echo "ok: $case_name"
