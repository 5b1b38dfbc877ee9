#!/usr/bin/env bash
# Plots latency and host cost per interrupt against interrupt rate, one line
# per delivery mode, from a sweep's CSV (default: the demonstration's).
# Installs Debian's python3-matplotlib when it is missing.
# Usage: scripts/plot.sh [RESULTS.csv [OUT.png]]
#        scripts/plot.sh --scaling E2E.csv [OUT.png]   (from `e2e-speed --csv`:
#        host time per interrupt against system size, docs/performance.md)
#        scripts/plot.sh --tornado REPORT.json [OUT.png] [--metric M] [--point N]
#        [--delivery MODE] [--irq NAME] [--top N]   (from `fwdsim sensitivity --json`)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "${1:-}" = "--tornado" ]; then
  json="${2:?usage: scripts/plot.sh --tornado REPORT.json [OUT.png] [options]}"
  shift 2
  out="${json%.json}-tornado.png"
  if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then out=$1; shift; fi
  bash "$root/scripts/deps.sh" python3 python3-matplotlib
  exec /usr/bin/python3 "$root/scripts/plot_tornado.py" "$json" "$out" "$@"
fi
if [ "${1:-}" = "--scaling" ]; then
  csv="${2:?usage: scripts/plot.sh --scaling E2E.csv [OUT.png]}"
  out="${3:-${csv%.csv}.png}"
  bash "$root/scripts/deps.sh" python3 python3-matplotlib
  exec /usr/bin/python3 "$root/bench/e2e/plot_scaling.py" "$csv" "$out"
fi
csv="${1:-$root/build/release/headline.csv}"
out="${2:-${csv%.csv}.png}"
bash "$root/scripts/deps.sh" python3 python3-matplotlib
exec /usr/bin/python3 "$root/scripts/plot_results.py" "$csv" "$out"
