#!/usr/bin/env bash
# The check of docs/delivery-paths.md (scripts/update-delivery-paths.sh
# --check) must notice a number of its demo tables changed by hand: this
# changes one in a copy and expects the check to refuse the copy, for that
# reason.  Usage: stale_delivery_paths.sh FWDSIM SOURCE_DIR
set -uo pipefail
fwdsim=$1
src=$2
stale=$(mktemp)
trap 'rm -f "$stale"' EXIT
# The first forwarded row's ack p50, one cycle off.
awk '/demo --steps: begin/ { inside = 1 } /demo --steps: end/ { inside = 0 }
     inside && !done && $4 == "forwarded" && $1 ~ /^[0-9]+$/ { sub(" " $8 " ", " " ($8 + 1) " "); done = 1 }
     { print }' "$src/docs/delivery-paths.md" > "$stale"
if cmp -s "$stale" "$src/docs/delivery-paths.md"; then
  echo "could not make a stale copy: the forwarded row at 1 k/s was not found" >&2
  exit 1
fi
out=$(FWDSIM=$fwdsim DOC=$stale bash "$src/scripts/update-delivery-paths.sh" --check 2>&1)
rc=$?
echo "$out"
if [ "$rc" -eq 0 ] || ! grep -q "is not what" <<<"$out"; then
  echo "the check accepted a table changed by hand" >&2
  exit 1
fi
