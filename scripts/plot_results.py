#!/usr/bin/python3
"""Plots latency and host cost per interrupt against one sweep key, from the
results `fwdsim run`/`fwdsim sweep` write (or `fwdsim merge` joins): one line
per delivery mode (and per value of every other sweep key), p50 solid and p99
dashed.  Writes OUT.png, OUT.svg and OUT.pdf (text kept as text: editable in
the SVG, TrueType in the PDF).  Uses Debian's matplotlib, Agg backend.

usage: plot_results.py RESULTS [OUT.png] [options]

RESULTS is the CSV or the JSON Lines file (.jsonl).  Latencies are in cycles
in both; microseconds need the scenario's clock, which the JSON Lines records
carry.  For a CSV it is read from a clock_hz column, else from the JSON Lines
file of the same name beside it (RESULTS with .jsonl), else --clock-hz.
"""
import argparse
import csv
import json
import math
import os
import sys

UNITS = ("us", "cycles")
LATENCIES = {"ack": "guest ack (IAR)", "eoi": "guest EOI", "deact": "physical deactivation"}


def fail(message):
    sys.stderr.write("plot_results: %s\n" % message)
    sys.exit(2)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="plot_results.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", help="the CSV or JSON Lines results")
    p.add_argument("out", nargs="?", help="OUT.png (default: RESULTS with .png); .svg and .pdf go beside it")
    p.add_argument("--unit", choices=UNITS, default="us", help="latency and host-cost unit (default: us)")
    p.add_argument("--clock-hz", type=float, help="the clock, for a CSV without one (e.g. 2.4e9)")
    p.add_argument("--x", dest="x", metavar="KEY",
                   help="the sweep key on the x axis: its path or a unique dotted end of it "
                        "(default: the key ending in rate_per_s)")
    p.add_argument("--irq", action="append", metavar="NAME",
                   help="plot only this interrupt (device.index; repeatable; default: every one)")
    p.add_argument("--latency", choices=sorted(LATENCIES), default="ack",
                   help="from the device's assert to: ack (IAR, default), eoi or deact")
    p.add_argument("--title", help="the title (default: the scenario's name)")
    p.add_argument("--formats", default="png,svg,pdf", help="comma-separated, of png, svg, pdf (default: all)")
    a = p.parse_args(argv)
    a.formats = [f.strip() for f in a.formats.split(",") if f.strip()]
    bad = [f for f in a.formats if f not in ("png", "svg", "pdf")]
    if bad or not a.formats:
        fail("--formats takes png, svg and pdf, not %s" % (",".join(bad) or "nothing"))
    if a.clock_hz is not None and not (a.clock_hz > 0 and math.isfinite(a.clock_hz)):
        fail("--clock-hz must be a positive number of cycles per second, not %s" % a.clock_hz)
    if a.out is None:
        a.out = os.path.splitext(a.results)[0] + ".png"
    stem, ext = os.path.splitext(a.out)
    if ext not in (".png", ".svg", ".pdf"):
        fail("OUT must end in .png, .svg or .pdf (the other formats go beside it), not %r" % a.out)
    a.stem = stem
    folder = os.path.dirname(stem) or "."
    if not os.path.isdir(folder):
        fail("cannot write %s: no folder %s" % (a.out, folder))
    return a


def read_csv(path):
    rows = []
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        need = {"point", "scenario", "params", "irq", "delivery", "delivered", "host_cycles_per_irq"}
        missing = need - set(reader.fieldnames or [])
        if missing:
            fail("%s is not a fwdsim results CSV (no column %s)" % (path, ", ".join(sorted(missing))))
        for n, r in enumerate(reader, start=2):
            params = []
            for item in r["params"].split(";") if r["params"] else []:
                key, sep, value = item.partition("=")
                if not sep:
                    fail("%s:%d: params: %r is not KEY=VALUE" % (path, n, item))
                params.append((key, value))
            try:
                row = {"point": int(r["point"]), "scenario": r["scenario"], "params": params, "irq": r["irq"],
                       "delivery": r["delivery"], "delivered": int(r["delivered"]),
                       "host": float(r["host_cycles_per_irq"]),
                       "clock_hz": float(r["clock_hz"]) if r.get("clock_hz") else None}
                for lat in LATENCIES:
                    row[lat] = (float(r[lat + "_p50"]), float(r[lat + "_p99"]))
            except (ValueError, KeyError, TypeError) as e:
                fail("%s:%d: not a fwdsim results row (%s)" % (path, n, e))
            rows.append(row)
    return rows


def read_jsonl(path):
    rows = []
    keys = {"ack": "latency_to_ack", "eoi": "latency_to_eoi", "deact": "latency_to_deactivate"}
    with open(path) as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                for i in rec["irqs"]:
                    row = {"point": rec["point"], "scenario": rec["scenario"], "params": list(rec["params"].items()),
                           "irq": i["name"], "delivery": i["delivery"], "delivered": i["delivered"],
                           "host": i["host_cycles_per_irq"], "clock_hz": float(rec["clock_hz"])}
                    for lat, key in keys.items():
                        row[lat] = (float(i[key]["p50"]), float(i[key]["p99"]))
                    rows.append(row)
            except (ValueError, KeyError, TypeError) as e:
                fail("%s:%d: not a fwdsim JSON Lines result record (%s)" % (path, n, e))
    return rows


def attach_clock(rows, args):
    """Gives every row its clock, or says how to provide one."""
    if args.unit == "cycles" or all(r["clock_hz"] for r in rows):
        return
    if args.clock_hz:
        for r in rows:
            r["clock_hz"] = args.clock_hz
        return
    sibling = os.path.splitext(args.results)[0] + ".jsonl"
    if os.path.exists(sibling):
        clocks = {(r["point"], r["scenario"]): r["clock_hz"] for r in read_jsonl(sibling)}
        for r in rows:
            clock = clocks.get((r["point"], r["scenario"]))
            if clock is None:
                fail("%s has no record of point %d of %s: is it from another run? (or give --clock-hz)"
                     % (sibling, r["point"], r["scenario"]))
            r["clock_hz"] = clock
        return
    fail("%s holds cycles and no clock: give --clock-hz HZ, keep the .jsonl written with it beside it, "
         "or plot --unit cycles" % args.results)


def choose_x(rows, wanted):
    keys = []
    for r in rows:
        for k, _ in r["params"]:
            if k not in keys:
                keys.append(k)
    if not keys:
        fail("these results have no sweep key to put on the x axis (a `fwdsim run`, or a sweep of one point)")
    if wanted is None:
        found = [k for k in keys if k.endswith("rate_per_s")]
        if not found:
            fail("no sweep key ends in rate_per_s; choose one with --x (%s)" % ", ".join(keys))
        return found[0]
    found = [k for k in keys if k == wanted or k.endswith("." + wanted)]
    if len(found) != 1:
        fail("--x %s %s; the sweep keys: %s" % (wanted, "matches none" if not found else
                                               "is ambiguous (%s)" % ", ".join(found), ", ".join(keys)))
    return found[0]


def number(text):
    try:
        v = float(text)
        return v if math.isfinite(v) else None
    except ValueError:
        return None


def compact(v):
    """1000 -> 1k, 2.5e6 -> 2.5M, 0.5 -> 0.5: tick labels a reader takes in at once."""
    if v == 0:
        return "0"
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= scale:
            return ("%.3g" % (v / scale)) + suffix
    return "%.3g" % v


def own_delivery_keys(rows):
    """Per interrupt, the swept *.delivery keys that are its own: those whose
    value is the row's delivery mode in every row of that interrupt.  Another
    interrupt's mode is a parameter like any other."""
    own = {}
    for r in rows:
        keys = {k for k, v in r["params"] if k.endswith(".delivery") and v == r["delivery"]}
        own[r["irq"]] = own.get(r["irq"], keys) & keys
    return own


def collect_series(rows, xkey, latency, scale):
    """A line per interrupt (when more than one is drawn), delivery mode and
    value of every other sweep key.  Each holds (x value as written, p50,
    p99, host cost) in the chosen unit."""
    many_irqs = len({r["irq"] for r in rows}) > 1
    own = own_delivery_keys(rows)
    series = {}
    for r in rows:
        if r["delivered"] == 0:
            continue
        params = dict(r["params"])
        by_delivery = xkey not in own[r["irq"]]  # else the mode is on the x axis
        others = tuple((k, v) for k, v in r["params"] if k != xkey and k not in own[r["irq"]])
        label = ([r["irq"]] if many_irqs else []) + ([r["delivery"]] if by_delivery else [])
        label += ["%s=%s" % (k.rsplit(".", 1)[-1], v) for k, v in others]
        key = (r["irq"], r["delivery"] if by_delivery else "", others)
        p50, p99 = r[latency]
        series.setdefault(key, {"label": " ".join(label) or r["irq"], "points": []})["points"].append(
            (params[xkey], p50 * scale(r), p99 * scale(r), r["host"] * scale(r)))
    for s in series.values():
        xs = [p[0] for p in s["points"]]
        if len(set(xs)) != len(xs):
            fail("the line %r has two results at one %s: are these several runs' results in one file?"
                 % (s["label"], xkey))
    return series


def main(argv):
    args = parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"svg.fonttype": "none", "pdf.fonttype": 42, "ps.fonttype": 42,
                                "svg.hashsalt": "fwdsim", "path.simplify": False})
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    if not os.path.exists(args.results):
        fail("%s: no such file" % args.results)
    rows = read_jsonl(args.results) if args.results.endswith(".jsonl") else read_csv(args.results)
    if not rows:
        fail("%s holds no results" % args.results)
    names = sorted({r["irq"] for r in rows})
    if args.irq:
        unknown = [n for n in args.irq if n not in names]
        if unknown:
            fail("--irq %s: no such interrupt in %s (it has %s)" % (", ".join(unknown), args.results, ", ".join(names)))
        rows = [r for r in rows if r["irq"] in args.irq]
    xkey = choose_x(rows, args.x)
    attach_clock(rows, args)
    scale = (lambda r: 1e6 / r["clock_hz"]) if args.unit == "us" else (lambda r: 1.0)
    unit = "\u00b5s" if args.unit == "us" else "cycles"

    series = collect_series(rows, xkey, args.latency, scale)
    if not series:
        fail("no interrupt was delivered in the rows chosen from %s" % args.results)
    xs = sorted({p[0] for s in series.values() for p in s["points"]}, key=lambda v: (number(v) is None, number(v) or 0, v))
    numeric = all(number(v) is not None for v in xs)
    position = (lambda v: number(v)) if numeric else (lambda v: xs.index(v))
    log_x = numeric and min(number(v) for v in xs) > 0 and max(number(v) for v in xs) >= 20 * min(number(v) for v in xs)

    fig, (lat_ax, cost_ax) = plt.subplots(1, 2, figsize=(11, 4.4))
    def order(key):
        irq, delivery, others = key
        return irq, delivery, tuple((k, number(v) is None, number(v) or 0, v) for k, v in others)

    for key in sorted(series, key=order):
        s = series[key]
        pts = sorted(s["points"], key=lambda p: position(p[0]))
        x = [position(p[0]) for p in pts]
        (line,) = lat_ax.plot(x, [p[1] for p in pts], marker="o", label="%s p50" % s["label"])
        lat_ax.plot(x, [p[2] for p in pts], linestyle="--", marker=".", color=line.get_color(),
                    label="%s p99" % s["label"])
        cost_ax.plot(x, [p[3] for p in pts], marker="o", color=line.get_color(), label=s["label"])
        print("plot_results: %s: %d points; p50 %s at %s=%s: %.6g %s" % (
            s["label"], len(pts), LATENCIES[args.latency], xkey.rsplit(".", 1)[-1], pts[0][0], pts[0][1], args.unit))

    readable = FuncFormatter(lambda v, _pos: compact(v))
    xlabel = "interrupt rate (1/s)" if xkey.endswith("rate_per_s") else xkey
    for ax in (lat_ax, cost_ax):
        if log_x:
            ax.set_xscale("log")
        if numeric and len(xs) <= 12:
            # Ticks at the swept values themselves, as a paper's reader looks for them.
            ax.set_xticks([number(v) for v in xs])
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.xaxis.set_major_formatter(readable)
        elif numeric:
            ax.xaxis.set_major_formatter(readable)
        else:
            ax.set_xticks(range(len(xs)))
            ax.set_xticklabels(xs)
        ax.set_xlabel(xlabel)
        ax.grid(True, which="major", alpha=0.35)
        ax.grid(True, which="minor", alpha=0.12)
        ax.legend(fontsize=7)
    lat_ax.set_yscale("log")
    lat_ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    lat_ax.yaxis.set_major_formatter(readable)
    lat_ax.yaxis.set_minor_formatter(NullFormatter())
    lat_ax.set_ylabel("device assert \u2192 %s (%s)" % (LATENCIES[args.latency], unit))
    cost_ax.yaxis.set_major_formatter(readable)
    cost_ax.set_ylabel("host %s per delivered interrupt" % unit)
    cost_ax.set_ylim(bottom=0)
    scenarios = sorted({r["scenario"] for r in rows})
    title = args.title or " + ".join(scenarios)
    if not args.title and args.irq:
        title += ": " + ", ".join(args.irq)
    fig.suptitle(title)
    fig.tight_layout()
    written = []
    for fmt in args.formats:
        path = "%s.%s" % (args.stem, fmt)
        # No creation date in the PDF and SVG, so the same results give the same files.
        meta = {"CreationDate": None} if fmt == "pdf" else {"Date": None} if fmt == "svg" else {}
        fig.savefig(path, dpi=150, metadata=meta)
        written.append(path)
    print("plot_results: wrote %s" % ", ".join(written))


if __name__ == "__main__":
    main(sys.argv[1:])
