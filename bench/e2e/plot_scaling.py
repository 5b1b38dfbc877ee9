#!/usr/bin/python3
"""Plots host time per simulated interrupt against system size from the CSV
that `e2e-speed --csv` writes: one panel per scaling series (devices,
interrupt IDs, vCPUs), each with the 1.5x-of-first-point line the target
allows.

usage: plot_scaling.py E2E.csv OUT.png

Uses Debian's matplotlib with the Agg backend (no display); `scripts/deps.sh
python3 python3-matplotlib` installs it.
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SERIES = [("devices", "devices (forwarded, total rate fixed)"),
          ("interrupt IDs", "interrupt IDs (device on the highest SPI)"),
          ("vCPUs", "vCPUs (one per CPU)")]


def main(argv):
    if len(argv) != 3:
        raise SystemExit(__doc__)
    rows = {}
    with open(argv[1], newline="") as f:
        for row in csv.DictReader(f):
            if row["series"] not in dict(SERIES):
                continue  # the headline rows: x is a delivery mode, not a size
            rows.setdefault(row["series"], []).append((float(row["x"]), float(row["cpu_ns_per_irq"])))
    missing = [name for name, _ in SERIES if name not in rows]
    if missing:
        raise SystemExit("plot_scaling: %s has no rows for series %s (run e2e-speed without --headline)"
                         % (argv[1], ", ".join(missing)))
    fig, axes = plt.subplots(1, len(SERIES), figsize=(12, 3.6), sharey=True)
    for ax, (name, title) in zip(axes, SERIES):
        xs = [x for x, _ in rows[name]]
        ys = [y for _, y in rows[name]]
        ax.plot(xs, ys, marker="o")
        ax.axhline(1.5 * ys[0], linestyle="--", color="grey", label="1.5x first point")
        ax.set_xscale("log", base=2)
        # On a log axis 992 and 1020 would print over each other: label a
        # tick only if it is at least 1.5x the last labelled one, or the end.
        labels, last = [], None
        for i, x in enumerate(xs):
            keep = last is None or x >= 1.5 * last
            if i == len(xs) - 1 and not keep and labels:
                labels[-1] = ""  # the end wins over its close neighbour
                keep = True
            labels.append(str(int(x)) if keep else "")
            if keep:
                last = x
        ax.set_xticks(xs)
        ax.set_xticklabels(labels)
        ax.set_title(title, fontsize=9)
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("host CPU ns per simulated interrupt")
    axes[0].legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(argv[2], dpi=110)
    print("plot_scaling: wrote", argv[2])


if __name__ == "__main__":
    main(sys.argv)
