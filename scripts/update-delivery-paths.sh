#!/usr/bin/env bash
# Regenerates the measured part of docs/delivery-paths.md from one run of
# `fwdsim demo --steps` (the headline table and each mode's per-step table),
# replacing what lies between its "demo --steps" markers.  Fails, leaving the
# file as it was, when the demo does (e.g. a path's steps do not add up).
# With --check it changes nothing and fails when the document is not what
# the demo prints now (a CTest runs it so; FWDSIM and DOC name the binary
# and the document when they are not the tree's own).
# Usage: scripts/update-delivery-paths.sh [--check] [BUILD_DIR]   (default build/release)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi
build=${1:-$here/build/release}
fwdsim=${FWDSIM:-$build/apps/fwdsim/fwdsim}
doc=${DOC:-$here/docs/delivery-paths.md}
out=$(mktemp)
trap 'rm -f "$out" "$out.doc" "$out.diff"' EXIT
"$fwdsim" demo --steps > "$out"
begin='<!-- fwdsim demo --steps: begin -->'
end='<!-- fwdsim demo --steps: end -->'
grep -qF -- "$begin" "$doc" && grep -qF -- "$end" "$doc" || { echo "$doc: markers missing" >&2; exit 1; }
awk -v b="$begin" -v e="$end" -v f="$out" '
  $0 == b { print; print ""; print "```"; while ((getline l < f) > 0) { if (l ~ /^The path of each mode/) break; print l }; print "```"; print "";
            if (l != "") print l; while ((getline l < f) > 0) print l; print ""; skip = 1; next }
  $0 == e { skip = 0 }
  !skip { print }' "$doc" > "$out.doc"
if [ "$check" = 1 ]; then
  if ! diff -u "$doc" "$out.doc" > "$out.diff"; then
    echo "$doc is not what \`fwdsim demo --steps\` prints now; run scripts/update-delivery-paths.sh:" >&2
    head -40 "$out.diff" >&2
    exit 1
  fi
  echo "$doc: its demo tables are fwdsim demo --steps's"
  exit 0
fi
mv "$out.doc" "$doc"
echo "updated $doc"
