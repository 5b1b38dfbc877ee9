#!/usr/bin/env bash
# scripts/plot.sh on a small sweep's results: every option writes PNG, SVG and
# PDF files that are valid of their kind and say what was asked (unit, x key,
# interrupt, title); bad options are refused with a message and no file.
# Skipped (exit 77) when Debian's matplotlib is not installed.
# Usage: plot_cli.sh FWDSIM SCENARIO
set -euo pipefail
fwdsim=$1 scenario=$2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if ! dpkg-query -W -f='${Status}' python3-matplotlib 2>/dev/null | grep -q "install ok installed" ||
   ! /usr/bin/python3 -c "import matplotlib" 2>/dev/null; then
  echo "SKIPPED: Debian's python3-matplotlib is not installed (scripts/test.sh installs it)"
  exit 77
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$fwdsim" sweep "$scenario" --jobs 2 --quiet --json "$tmp/r.jsonl" --csv "$tmp/r.csv"

# valid FILE...: each file is a whole PNG (every chunk's CRC, IHDR first,
# IEND last), a parseable SVG, or a PDF with its header, xref and end.
valid() {
  /usr/bin/python3 - "$@" <<'PY'
import struct, sys, zlib
import xml.etree.ElementTree as ET
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    if path.endswith(".png"):
        assert data[:8] == b"\x89PNG\r\n\x1a\n", path + ": no PNG signature"
        pos, kinds = 8, []
        while pos < len(data):
            (n,) = struct.unpack(">I", data[pos:pos + 4])
            kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
            (crc,) = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
            assert zlib.crc32(kind + body) == crc, "%s: bad CRC in %r" % (path, kind)
            kinds.append(kind)
            pos += 12 + n
        assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds, path + ": chunks " + repr(kinds)
        w, h = struct.unpack(">II", data[16:24])
        assert w > 400 and h > 200, "%s: %dx%d" % (path, w, h)
    elif path.endswith(".svg"):
        root = ET.fromstring(data)
        assert root.tag == "{http://www.w3.org/2000/svg}svg", path + ": root " + root.tag
    elif path.endswith(".pdf"):
        assert data.startswith(b"%PDF-1."), path + ": no PDF header"
        assert b"startxref" in data[-64:] and data.rstrip().endswith(b"%%EOF"), path + ": no PDF trailer"
        assert b"/Type /Page" in data or b"/Type/Page" in data, path + ": no page"
    else:
        raise SystemExit(path + ": unexpected kind")
PY
}
plot() { bash "$root/scripts/plot.sh" "$@"; }

# The defaults: microseconds, the rate on x, every interrupt, three formats.
plot "$tmp/r.csv" "$tmp/a.png" > "$tmp/a.out"
valid "$tmp/a.png" "$tmp/a.svg" "$tmp/a.pdf" || fail "the default plot's files are not valid"
grep -q ">workflow-small<" "$tmp/a.svg" || fail "the title is not the scenario's name"
grep -q "interrupt rate (1/s)" "$tmp/a.svg" || fail "the x axis is not the rate"
grep -q "(µs)" "$tmp/a.svg" || fail "the latency is not in µs"
grep -q ">100k<" "$tmp/a.svg" || fail "no readable tick at 100k"
grep -q "plat0.0 userspace p50" "$tmp/a.svg" && grep -q "plat1.0 irqfd" "$tmp/a.svg" || fail "not every interrupt is drawn"
# plat1.0's mode is fixed, plat0.0's is swept: a line of plat1.0 per plat0.0 mode, one point per rate.
for mode in userspace irqfd forwarded; do
  grep -q "^plot_results: plat1.0 irqfd delivery=$mode: 2 points" "$tmp/a.out" || fail "plat1.0's lines: $(cat "$tmp/a.out")"
done
if grep -q "$tmp" "$tmp/a.svg"; then fail "the title or a label names a path"; fi

# Cycles; the clock converts: the same point's p50 is 2000 cycles per µs (clock_hz 2 GHz).
plot "$tmp/r.csv" "$tmp/c.png" --unit cycles > "$tmp/c.out"
valid "$tmp/c.png" "$tmp/c.svg" "$tmp/c.pdf"
grep -q "(cycles)" "$tmp/c.svg" || fail "--unit cycles: the axis does not say cycles"
us=$(grep -m1 "plat0.0 userspace:" "$tmp/a.out" | sed 's/.*: \([0-9.e+]*\) us$/\1/')
cy=$(grep -m1 "plat0.0 userspace:" "$tmp/c.out" | sed 's/.*: \([0-9.e+]*\) cycles$/\1/')
/usr/bin/python3 -c "import sys; us, cy = float('$us'), float('$cy'); sys.exit(0 if cy > 0 and abs(us * 2000 - cy) < 1e-3 * cy else 1)" ||
  fail "µs ($us) and cycles ($cy) disagree with clock_hz 2e9"

# The JSON Lines file plots the same; a CSV alone needs --clock-hz for µs.
plot "$tmp/r.jsonl" "$tmp/j.png" > "$tmp/j.out"
cmp <(grep "p50" "$tmp/a.out") <(grep "p50" "$tmp/j.out") || fail "CSV and JSON Lines plot different numbers"
mkdir "$tmp/alone" && cp "$tmp/r.csv" "$tmp/alone/r.csv"
if plot "$tmp/alone/r.csv" 2> "$tmp/err"; then fail "µs from a CSV with no clock was accepted"; fi
grep -q "clock-hz" "$tmp/err" || fail "no message on the missing clock: $(cat "$tmp/err")"
plot "$tmp/alone/r.csv" --clock-hz 2e9 --formats svg > "$tmp/k.out"
cmp <(grep "p50" "$tmp/a.out") <(grep "p50" "$tmp/k.out") || fail "--clock-hz converts differently"
[ -e "$tmp/alone/r.svg" ] && [ ! -e "$tmp/alone/r.png" ] || fail "--formats svg wrote other formats (or none)"

# Another sweep key on x, one interrupt, its own title.
plot "$tmp/r.jsonl" "$tmp/x.png" --x delivery --irq plat1.0 --latency eoi > /dev/null
valid "$tmp/x.png" "$tmp/x.svg" "$tmp/x.pdf"
grep -q "devices.0.irqs.0.delivery" "$tmp/x.svg" || fail "--x delivery: the x axis is not the delivery key"
grep -q ">forwarded<" "$tmp/x.svg" || fail "--x delivery: no category tick"
grep -q ">workflow-small: plat1.0<" "$tmp/x.svg" || fail "--irq: the title does not name the interrupt"
if grep -q "plat0.0" "$tmp/x.svg"; then fail "--irq plat1.0 drew plat0.0 too"; fi
grep -q "guest EOI" "$tmp/x.svg" || fail "--latency eoi: the axis does not say EOI"
plot "$tmp/r.csv" "$tmp/t.pdf" --title "Figure 3" --formats pdf > /dev/null
valid "$tmp/t.pdf"

# Bad options: refused, with a message, and nothing written.
for args in "--unit ms" "--x lrs" "--x irqs.0" "--irq nope" "--latency iar" "--formats png,gif" "--clock-hz -5" "--frobnicate"; do
  # shellcheck disable=SC2086
  if plot "$tmp/r.csv" "$tmp/bad.png" $args > /dev/null 2> "$tmp/err"; then fail "accepted: $args"; fi
  grep -qE "plot_results(\.py)?: " "$tmp/err" || fail "no message for: $args"
  if grep -q "Traceback" "$tmp/err"; then fail "crashed on: $args"; fi
  [ ! -e "$tmp/bad.png" ] && [ ! -e "$tmp/bad.svg" ] || fail "a file was written for: $args"
done
if plot "$tmp/r.csv" "$tmp/bad.gif" 2> "$tmp/err"; then fail "an OUT.gif was accepted"; fi
if plot "$tmp/nothing.csv" 2> "$tmp/err"; then fail "a missing results file was accepted"; fi
grep -q "no such file" "$tmp/err" || fail "no message for a missing file"

# The other modes of plot.sh still work: --tornado (a sensitivity report) and --scaling.
"$fwdsim" sensitivity "$scenario" --samples 0 --quiet --json "$tmp/sens.json"
plot --tornado "$tmp/sens.json" "$tmp/tornado.png" --delivery forwarded > /dev/null
valid "$tmp/tornado.png" "$tmp/tornado.svg"
printf 'series,x,cpu_ns_per_irq\n' > "$tmp/e2e.csv"
for s in devices "interrupt IDs" vCPUs; do printf '%s,1,500\n%s,4,650\n' "$s" "$s" >> "$tmp/e2e.csv"; done
plot --scaling "$tmp/e2e.csv" "$tmp/scaling.png" > /dev/null
valid "$tmp/scaling.png"
echo "plot command line: all checks passed"
