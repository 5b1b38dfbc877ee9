#!/usr/bin/env bash
# Compares the end-to-end speed of this checkout with an earlier commit the
# only way this machine allows: both e2e-speed binaries run alternately on
# one pinned CPU, in one sitting, so a change of the host's clock hits both.
# Usage: bench/e2e_compare.sh [--rounds N] [--only forwarded|irqfd] [REV]
#   REV: the commit to compare with (default HEAD~1); built once, in
#        build/compare/<its hash>, from a temporary git worktree.
#   --rounds N: runs of each binary (default 5); each run is e2e-speed's
#        best of 3 (`--headline`).
# E2E_CPU=C pins to CPU C (default the last one); FWDSIM_BUILD_DIR=DIR uses
# DIR for this checkout's release build instead of build/release.
# Prints each run, then per binary the median CPU ns per forwarded (or
# irqfd) interrupt and simulated interrupts per host CPU second, and the
# ratio of the medians (above 1: this checkout is faster).  For a count
# that does not depend on the host at all, use callgrind (docs/performance.md).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rounds=5 only=forwarded rev=HEAD~1
while (($#)); do
  case "$1" in
    --rounds) rounds="${2:?--rounds needs a number}"; shift 2 ;;
    --only) only="${2:?--only needs forwarded or irqfd}"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "e2e_compare.sh: unknown option $1" >&2; exit 2 ;;
    *) rev="$1"; shift ;;
  esac
done
[[ "$rounds" =~ ^[1-9][0-9]{0,2}$ ]] || { echo "e2e_compare.sh: --rounds $rounds: want 1..999" >&2; exit 2; }
[[ "$only" == forwarded || "$only" == irqfd ]] || { echo "e2e_compare.sh: --only $only: want forwarded or irqfd" >&2; exit 2; }
hash="$(git rev-parse --verify --quiet "$rev^{commit}")" || { echo "e2e_compare.sh: $rev: not a commit here" >&2; exit 2; }
bash scripts/deps.sh

build_dir="${FWDSIM_BUILD_DIR:-build/release}"
cmake --preset release -B "$build_dir" >/dev/null
cmake --build "$build_dir" -j2 --target e2e_speed >/dev/null
new="$build_dir/bench/e2e/e2e-speed"

# The old binary reads its scenario from its own source tree (compiled-in
# path), so the worktree stays for as long as the binary is used.
base_src="$root/build/compare/$hash/src"
base_bin="$root/build/compare/$hash/build/bench/e2e/e2e-speed"
if [[ ! -x "$base_bin" ]]; then
  git worktree prune
  [[ -d "$base_src" ]] || git worktree add --detach "$base_src" "$hash" >/dev/null
  cmake --preset release -S "$base_src" -B "$root/build/compare/$hash/build" >/dev/null
  cmake --build "$root/build/compare/$hash/build" -j2 --target e2e_speed >/dev/null
fi

cpu="${E2E_CPU:-$(($(nproc) - 1))}"
ns_of() { # the CPU ns / irq column of e2e-speed's one row
  taskset -c "$cpu" "$1" --headline --only "$only" | awk -F'|' '$2 ~ /headline/ { gsub(/ /, "", $7); print $7 }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

short="$(git rev-parse --short "$hash")"
printf 'CPU %s, %s headline, CPU ns per interrupt (this checkout vs %s)\n' "$cpu" "$only" "$short"
olds="" news=""
for ((r = 1; r <= rounds; r++)); do
  o="$(ns_of "$base_bin")"; n="$(ns_of "$new")"
  [[ -n "$o" && -n "$n" ]] || { echo "e2e_compare.sh: e2e-speed printed no headline row" >&2; exit 1; }
  printf 'round %d: %s %s, this %s\n' "$r" "$short" "$o" "$n"
  olds+="$o"$'\n'; news+="$n"$'\n'
done
mo="$(printf '%s' "$olds" | median)"; mn="$(printf '%s' "$news" | median)"
awk -v o="$mo" -v n="$mn" -v s="$short" 'BEGIN {
  printf "median: %s %.0f ns (%.2f M/s), this checkout %.0f ns (%.2f M/s); %s / this = %.3f\n",
         s, o, 1e3 / o, n, 1e3 / n, s, o / n }'
