#!/usr/bin/python3
"""Plots latency and host cost against interrupt rate, one line per delivery
mode, from the CSV that `fwdsim run`/`fwdsim sweep` writes.

usage: plot_results.py RESULTS.csv OUT.png [--irq NAME]

Reads the columns point, params, irq, delivery, delivered, ack_p50, ack_p99,
host_cycles_per_irq and the rate from the sweep parameter whose path ends in
"rate_per_s".  Uses Debian's matplotlib with the Agg backend (no display).
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def rate_of(params):
    for item in params.split(";"):
        key, _, value = item.partition("=")
        if key.endswith("rate_per_s"):
            return float(value)
    raise SystemExit("plot_results: a row's params name no *.rate_per_s sweep parameter: %r" % params)


def main(argv):
    if len(argv) < 3:
        raise SystemExit(__doc__)
    path, out = argv[1], argv[2]
    only = argv[argv.index("--irq") + 1] if "--irq" in argv else None
    series = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if only and row["irq"] != only:
                continue
            if int(row["delivered"]) == 0:
                continue
            s = series.setdefault(row["delivery"], [])
            s.append((rate_of(row["params"]), float(row["ack_p50"]), float(row["ack_p99"]),
                      float(row["host_cycles_per_irq"])))
    if not series:
        raise SystemExit("plot_results: no rows with delivered interrupts in %s" % path)
    fig, (lat, cost) = plt.subplots(1, 2, figsize=(11, 4.2))
    for mode in sorted(series):
        pts = sorted(series[mode])
        rates = [p[0] for p in pts]
        (line,) = lat.plot(rates, [p[1] for p in pts], marker="o", label="%s p50" % mode)
        lat.plot(rates, [p[2] for p in pts], linestyle="--", marker=".", color=line.get_color(),
                 label="%s p99" % mode)
        cost.plot(rates, [p[3] for p in pts], marker="o", color=line.get_color(), label=mode)
    for ax in (lat, cost):
        ax.set_xscale("log")
        ax.set_xlabel("interrupt rate (1/s)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    lat.set_yscale("log")
    lat.set_ylabel("device assert -> guest ack (cycles)")
    cost.set_ylabel("host cycles per delivered interrupt")
    fig.suptitle("fwdsim: %s" % path)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print("plot_results: wrote %s (%d modes)" % (out, len(series)))


if __name__ == "__main__":
    main(sys.argv)
