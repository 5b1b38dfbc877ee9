#!/usr/bin/env bash
# fwdsim sensitivity from the command line: shards analysed from their files
# give the report of the whole run, byte for byte; a missing or foreign shard
# and bad options are refused with a message and no output file.
# Usage: sensitivity_cli.sh FWDSIM SCENARIO
set -euo pipefail
fwdsim=$1 scenario=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$fwdsim" sensitivity "$scenario" --samples 4 --jobs 2 --json "$tmp/whole.json" --csv "$tmp/whole.csv" \
  --markdown "$tmp/whole.md" > "$tmp/table"
grep -q '^| `forwarded < irqfd on exits_per_irq` | plat0.0 (the scenario) | holds (margin [0-9.]*) | holds over every range | holds in every sample |$' \
  "$tmp/whole.md" || fail "the Markdown conclusion is not there: $(cat "$tmp/whole.md")"
"$fwdsim" profile > "$tmp/profile"
# A stated range is marked '*'; a default one is not.
grep -qE "host.idle_exit +[0-9]+ +[0-9]+\.\.[0-9]+ +\* recalled" "$tmp/profile" || fail "fwdsim profile prints no stated range"
grep -qE "kvm.handle_exit +[0-9]+ +[0-9]+\.\.[0-9]+ +estimate" "$tmp/profile" || fail "fwdsim profile prints no default range"
grep -q "forwarded < irqfd on host_cycles_per_irq" "$tmp/table" || fail "the table names no comparison"
grep -q "jointly: holds in 4 of 4 samples" "$tmp/table" || fail "the comparison's joint fraction is missing"
grep -q "^primitive,evidence," "$tmp/whole.csv" || fail "no CSV header"
for i in 0 1; do
  "$fwdsim" sensitivity "$scenario" --samples 4 --shard "$i/3" --runs "$tmp/part$i.runs" > /dev/null
done
# CLI11's --x=v form: the last shard so, and it must still join the others byte for byte.
"$fwdsim" sensitivity "$scenario" --samples=4 --shard=2/3 --runs="$tmp/part2.runs" > /dev/null
"$fwdsim" sensitivity "$scenario" --samples 4 --from "$tmp/part0.runs" --from "$tmp/part1.runs" \
  --from "$tmp/part2.runs" --json "$tmp/merged.json" --quiet
cmp "$tmp/whole.json" "$tmp/merged.json" || fail "sharded analysis differs from the whole run"

# A shard missing: refused, and no JSON written.
if "$fwdsim" sensitivity "$scenario" --samples 4 --from "$tmp/part0.runs" --from "$tmp/part2.runs" \
     --json "$tmp/partial.json" --quiet 2> "$tmp/err"; then fail "a missing shard was accepted"; fi
grep -q "missing" "$tmp/err" || fail "no message for the missing shard: $(cat "$tmp/err")"
[ ! -e "$tmp/partial.json" ] && [ ! -e "$tmp/partial.json.tmp" ] || fail "an output was left behind"
# Shards of another seed: refused.
if "$fwdsim" sensitivity "$scenario" --samples 4 --seed 2 --from "$tmp/part0.runs" --from "$tmp/part1.runs" \
     --from "$tmp/part2.runs" --quiet 2> "$tmp/err"; then fail "a foreign shard was accepted"; fi
grep -q "another analysis" "$tmp/err" || fail "no message for the foreign shard: $(cat "$tmp/err")"
# Bad options.
for args in "--point 7" "--where rate_per_s=5" "--samples x" "--shard 3/3 --runs $tmp/x" "--shard 0/2" \
            "--duration-us inf" "--json $tmp/same --csv $tmp/same" "--csv $tmp/same --markdown $tmp/same"; do
  # shellcheck disable=SC2086
  if "$fwdsim" sensitivity "$scenario" $args --quiet 2> "$tmp/err"; then fail "accepted: $args"; fi
  grep -q "fwdsim sensitivity: " "$tmp/err" || fail "no message for: $args"
  if grep -qE "terminate|AddressSanitizer|runtime error" "$tmp/err"; then fail "crashed on: $args"; fi
done
# A bad command line: exit 2 and a message naming the option.
for args in "--samples=x" "--top" "--where=nokey" "--duration-us=0" "--jobs=-1" "--bogus"; do
  # shellcheck disable=SC2086
  "$fwdsim" sensitivity "$scenario" $args --quiet 2> "$tmp/err" && fail "accepted: $args"
  rc=$?; [ "$rc" = 2 ] || fail "exit $rc, not 2, for: $args"
  opt=${args%%=*}; grep -q -- "$opt" "$tmp/err" || fail "the message does not name $opt: $(cat "$tmp/err")"
done
"$fwdsim" sensitivity --help > "$tmp/help" || fail "--help failed"
for want in "--samples N" "default 256" "--duration-us US" "microseconds" "--top N" "default 8" "FWDSIM_JOBS" "--from OUT"; do
  grep -q -- "$want" "$tmp/help" || fail "--help does not say '$want'"
done
# The tornado chart, where Debian's matplotlib is installed (scripts/test.sh installs it).
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if /usr/bin/python3 -c "import matplotlib" 2>/dev/null; then
  /usr/bin/python3 "$root/scripts/plot_tornado.py" "$tmp/whole.json" "$tmp/t.png" --delivery irqfd > /dev/null
  [ "$(head -c 8 "$tmp/t.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "the tornado is not a PNG"
  grep -q "<svg" "$tmp/t.svg" || fail "no SVG beside the PNG"
  if /usr/bin/python3 "$root/scripts/plot_tornado.py" "$tmp/whole.json" "$tmp/u.png" --metric nonsense 2> "$tmp/err"; then
    fail "an unknown metric was drawn"
  fi
else
  echo "skipped the tornado chart: /usr/bin/python3 has no matplotlib"
fi
echo "sensitivity command line: all checks passed"
