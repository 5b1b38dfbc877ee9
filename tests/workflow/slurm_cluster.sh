#!/usr/bin/env bash
# fwdsim slurm on a real, private, single-node Slurm: munged, slurmctld and
# slurmd configured under a temporary folder (their own key, socket,
# slurm.conf, state and logs; ports on 127.0.0.1 only), the generated job
# array and its merge job submitted with sbatch and waited for, and the
# merged results compared with the unsharded sweep byte for byte.
# Every daemon runs under `timeout`, so none outlives the test, and is
# stopped by the exit trap whatever happens.  Skipped (exit 77) when
# slurm-wlm and munge are not installed, or without root (slurmd starts
# jobs as their user).
# Usage: slurm_cluster.sh FWDSIM SCENARIO
set -euo pipefail
fwdsim=$1 scenario=$2
limit=240 # seconds any daemon may live; CTest's own timeout is above it
for tool in munged slurmctld slurmd sbatch squeue scontrol sinfo scancel; do
  if ! command -v "$tool" > /dev/null && [ ! -x "/usr/sbin/$tool" ]; then
    echo "SKIPPED: $tool is not installed (Debian's slurm-wlm and munge; scripts/test.sh installs them)"
    exit 77
  fi
done
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIPPED: a private slurmd needs root to start jobs (run the tests as root, as CI does)"
  exit 77
fi
PATH=$PATH:/usr/sbin
tmp=$(mktemp -d)
chmod 755 "$tmp" # munged wants its socket's folder open to all (execute)
pids=()
cleanup() {
  set +e
  if [ -n "${SLURM_CONF:-}" ] && [ -n "${ctld_pid:-}" ]; then
    scancel --quiet --full $(squeue -h -o %A 2> /dev/null) 2> /dev/null
    for _ in $(seq 20); do [ -z "$(squeue -h 2> /dev/null)" ] && break; sleep 0.5; done
  fi
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2> /dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP # the EXIT trap then stops the daemons too
fail() {
  echo "FAIL: $*" >&2
  for log in "$tmp"/*.log "$tmp"/run/logs/*; do
    [ -f "$log" ] && { echo "--- $log" >&2; tail -n 20 "$log" >&2; }
  done
  exit 1
}
# A port nobody listens on, on any address (from /proc/net/tcp{,6}).
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 30000))
    if ! awk -v p="$(printf '%04X' "$port")" '$4 == "0A" && $2 ~ ":" p "$" { found = 1 } END { exit !found }' \
         /proc/net/tcp /proc/net/tcp6 2> /dev/null; then
      echo "$port"
      return
    fi
  done
}

# munge: a key of our own, our own socket.
dd if=/dev/urandom of="$tmp/munge.key" bs=1024 count=1 status=none
chmod 400 "$tmp/munge.key"
timeout -k 5 "$limit" munged -F --socket="$tmp/munge.sock" --key-file="$tmp/munge.key" --log-file="$tmp/munged.log" \
  --pid-file="$tmp/munged.pid" --seed-file="$tmp/munged.seed" > "$tmp/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$tmp/munge.sock" ] && break; sleep 0.2; done
[ -S "$tmp/munge.sock" ] || fail "munged did not start: $(cat "$tmp/munged.out")"

host=$(hostname -s)
ctld_port=$(free_port)
slurmd_port=$(free_port)
[ "$ctld_port" != "$slurmd_port" ] || slurmd_port=$((ctld_port + 1))
mkdir -p "$tmp/state" "$tmp/spool"
cat > "$tmp/slurm.conf" << CONF
ClusterName=fwdsimtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge.sock
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
MinJobAge=600
NodeName=fwdsimnode NodeAddr=127.0.0.1 NodeHostname=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=fwdsim Nodes=fwdsimnode Default=YES MaxTime=10 State=UP
CONF
export SLURM_CONF=$tmp/slurm.conf
timeout -k 5 "$limit" slurmctld -D -f "$SLURM_CONF" > "$tmp/slurmctld.out" 2>&1 &
ctld_pid=$!
pids+=("$ctld_pid")
timeout -k 5 "$limit" slurmd -D -N fwdsimnode -f "$SLURM_CONF" > "$tmp/slurmd.out" 2>&1 &
pids+=($!)
for _ in $(seq 60); do
  sinfo -h -o %t 2> /dev/null | grep -qx idle && break
  sleep 0.5
done
sinfo -h -o %t 2> /dev/null | grep -qx idle || fail "the node did not come up idle: $(sinfo 2>&1)"
# Nothing of ours listens beyond the loopback address.
for port in "$ctld_port" "$slurmd_port"; do
  p=$(printf '%04X' "$port")
  awk -v p="$p" '$4 == "0A" && $2 ~ ":" p "$" && $2 !~ /^0100007F:/ { bad = 1 } END { exit bad }' /proc/net/tcp ||
    fail "port $port listens beyond 127.0.0.1"
  if [ -r /proc/net/tcp6 ] && awk -v p="$p" '$4 == "0A" && $2 ~ ":" p "$" { found = 1 } END { exit !found }' /proc/net/tcp6; then
    fail "port $port listens on IPv6"
  fi
  awk -v p="$p" '$4 == "0A" && $2 ~ "^0100007F:" p "$" { found = 1 } END { exit !found }' /proc/net/tcp ||
    fail "nothing listens on 127.0.0.1:$port"
done

# The unsharded sweep, then the same grid as a job array and its merge job.
cd "$tmp"
"$fwdsim" sweep "$scenario" --jobs 2 --quiet --json whole.jsonl --csv whole.csv
"$fwdsim" slurm "$scenario" --shards 3 --out "$tmp/run" --sbatch --time=5 > said
array=$(sbatch --parsable run/sweep.sbatch) || fail "sbatch refused the array script"
array=${array%%;*}
merge=$(sbatch --parsable --dependency=afterok:"$array" run/merge.sbatch) || fail "sbatch refused the merge script"
merge=${merge%%;*}
deadline=$((SECONDS + 180))
while [ -n "$(squeue -h -j "$array,$merge" 2> /dev/null)" ]; do
  [ $SECONDS -lt $deadline ] || fail "the jobs did not finish in 180 s: $(squeue 2>&1)"
  sleep 1
done
state=$(scontrol show job "$merge" | grep -o "JobState=[A-Z_]*")
[ "$state" = JobState=COMPLETED ] || fail "the merge job ended $state"
tasks=$(scontrol show job "$array" | grep -c "JobState=COMPLETED")
[ "$tasks" = 3 ] || fail "$tasks of the 3 array tasks completed"
for i in 0 1 2; do [ -s "run/shard-$i.jsonl" ] || fail "task $i wrote no shard"; done
cmp whole.jsonl run/results.jsonl || fail "the merged JSON Lines differ from the unsharded sweep"
cmp whole.csv run/results.csv || fail "the merged CSV differs from the unsharded sweep"
echo "real Slurm: array job $array (3 tasks) and merge job $merge equal the unsharded sweep byte for byte"
