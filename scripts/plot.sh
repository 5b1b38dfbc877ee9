#!/usr/bin/env bash
# Plots from fwdsim's results, with Debian's matplotlib (installed when
# missing).  Each chart is written as PNG, SVG and PDF side by side.
#
# Usage: scripts/plot.sh [RESULTS [OUT.png]] [options]
#   Latency and host cost per interrupt against a sweep key, one line per
#   delivery mode, from the CSV or JSON Lines of `fwdsim run/sweep/merge`
#   (default: the demonstration's build/release/headline.csv).  Options:
#     --unit us|cycles   (default us; a CSV's clock comes from the .jsonl beside it or --clock-hz HZ)
#     --x KEY            the sweep key on the x axis (default: the one ending in rate_per_s)
#     --irq NAME         only this interrupt (repeatable)
#     --latency ack|eoi|deact, --title TEXT, --formats png,svg,pdf
#   (scripts/plot_results.py --help says more)
# Usage: scripts/plot.sh --scaling E2E.csv [OUT.png]   (from `e2e-speed --csv`:
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
# No results named (nothing, or an option first): the demonstration's.
if [ $# -eq 0 ] || [ "${1#-}" != "$1" ]; then
  case "${1:-}" in -h|--help) ;; *) set -- "$root/build/release/headline.csv" "$@" ;; esac
fi
bash "$root/scripts/deps.sh" python3 python3-matplotlib
exec /usr/bin/python3 "$root/scripts/plot_results.py" "$@"
