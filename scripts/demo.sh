#!/usr/bin/env bash
# The README's first command: install what is missing, build the release
# preset, and run the main demonstration.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target fwdsim_tool
# The headline comparison: a level-triggered vfio-platform device from 1 k/s
# to past saturation under userspace, irqfd and forwarded delivery.
exec build/release/apps/fwdsim/fwdsim demo --csv build/release/headline.csv "$@"
