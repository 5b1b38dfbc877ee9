#!/usr/bin/python3
"""Draws a tornado chart from `fwdsim sensitivity --json`: for one metric of
one interrupt at one point, how far each primitive moves it at the low and
the high end of its range (the others at their values), largest first.

usage: plot_tornado.py REPORT.json OUT.png [--metric NAME] [--point N]
                       [--delivery MODE] [--irq NAME] [--top N]

Default: the first interrupt of the first point, host_cycles_per_irq, the
12 primitives that move it most.  Also writes OUT with .svg in place of .png.
Uses Debian's matplotlib with the Agg backend (no display).
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def option(argv, name, default):
    return argv[argv.index(name) + 1] if name in argv else default


def main(argv):
    if len(argv) < 3:
        raise SystemExit(__doc__)
    path, out = argv[1], argv[2]
    metric = option(argv, "--metric", "host_cycles_per_irq")
    point = option(argv, "--point", None)
    delivery = option(argv, "--delivery", None)
    irq = option(argv, "--irq", None)
    top = int(option(argv, "--top", "12"))
    with open(path) as f:
        report = json.load(f)
    chosen = None
    for index, m in enumerate(report["metrics"]):
        if m["metric"] != metric:
            continue
        if point is not None and report["points"][m["point"]]["index"] != int(point):
            continue
        if delivery is not None and m["delivery"] != delivery:
            continue
        if irq is not None and m["irq"] != irq:
            continue
        chosen = index
        break
    if chosen is None:
        raise SystemExit("plot_tornado: no metric %r matches in %s" % (metric, path))
    m = report["metrics"][chosen]
    base = m["base"]
    rows = [(e["primitive"], e["at_low"] - base, e["at_high"] - base)
            for e in report["one_at_a_time"] if e["metric"] == chosen]
    if not rows:
        raise SystemExit("plot_tornado: no primitive moves %s (was the report run with --no-oat?)" % metric)
    rows.sort(key=lambda r: abs(r[2] - r[1]), reverse=True)
    rows = list(reversed(rows[:top]))
    evidence = {p["key"]: p["evidence"] for p in report["primitives"]}
    labels = ["%s (%s)" % (r[0], evidence.get(r[0], "?")) for r in rows]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.6))
    y = range(len(rows))
    ax.barh(y, [r[1] for r in rows], color="#4878a8", label="primitive at the low end of its range")
    ax.barh(y, [r[2] for r in rows], color="#d8774a", label="primitive at the high end")
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(list(y))
    ax.set_yticklabels(labels, fontsize=8)
    params = report["points"][m["point"]]["params"]
    where = ", ".join("%s=%s" % (k.rsplit(".", 1)[-1], v) for k, v in params.items()) or "the scenario"
    ax.set_xlabel("change in %s (base %.6g)" % (metric, base))
    ax.set_title("%s: %s [%s] at %s" % (report["scenario"], m["irq"], m["delivery"], where), fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    if out.endswith(".png"):
        fig.savefig(out[:-4] + ".svg")
    print("wrote %s" % out)


if __name__ == "__main__":
    main(sys.argv)
