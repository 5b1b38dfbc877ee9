#!/usr/bin/env bash
# Regenerates the measured part of docs/delivery-paths.md from one run of
# `fwdsim demo --steps` (the headline table and each mode's per-step table),
# replacing what lies between its "demo --steps" markers.  Fails, leaving the
# file as it was, when the demo does (e.g. a path's steps do not add up).
# Usage: scripts/update-delivery-paths.sh [BUILD_DIR]   (default build/release)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build/release}
doc=$here/docs/delivery-paths.md
out=$(mktemp)
trap 'rm -f "$out" "$out.doc"' EXIT
"$build/apps/fwdsim/fwdsim" demo --steps > "$out"
begin='<!-- fwdsim demo --steps: begin -->'
end='<!-- fwdsim demo --steps: end -->'
grep -qF -- "$begin" "$doc" && grep -qF -- "$end" "$doc" || { echo "$doc: markers missing" >&2; exit 1; }
awk -v b="$begin" -v e="$end" -v f="$out" '
  $0 == b { print; print ""; print "```"; while ((getline l < f) > 0) { if (l ~ /^The path of each mode/) break; print l }; print "```"; print "";
            if (l != "") print l; while ((getline l < f) > 0) print l; print ""; skip = 1; next }
  $0 == e { skip = 0 }
  !skip { print }' "$doc" > "$out.doc"
mv "$out.doc" "$doc"
echo "updated $doc"
