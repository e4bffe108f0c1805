"""Plot of the benchmark against brain size: recall p50/p95 (and as of a past moment) and
full replay rate, from the JSON reports of `tools/bench/bench.py`.

    pip install -e '.[bench]'   # matplotlib: only for this plot, not the default install
    python tools/bench/plot.py tools/bench/results/ours.json tools/bench/results/ours_1m.json \
        --out docs/bench.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt


def rows(reports: list[Path]) -> list[dict[str, Any]]:
    """Every size measured, the last report's figure where two measured the same size."""
    by_n: dict[int, dict[str, Any]] = {}
    for path in reports:
        for row in json.loads(path.read_text())["results"]:
            by_n[row["n"]] = row
    return [by_n[n] for n in sorted(by_n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    data = rows(args.reports)
    sizes = [r["n"] for r in data]
    fig, (lat, rate) = plt.subplots(1, 2, figsize=(10, 4))
    for key, label in [
        ("recall_p50_ms", "recall p50"),
        ("recall_p95_ms", "recall p95"),
        ("asof_recall_p50_ms", "as-of recall p50"),
        ("asof_recall_p95_ms", "as-of recall p95"),
    ]:
        lat.plot(sizes, [r[key] for r in data], marker="o", label=label)
    lat.set(xscale="log", yscale="log", xlabel="memories", ylabel="ms", title="Recall latency")
    lat.legend()
    rate.plot(sizes, [r["replay_events_per_s"] / 1000 for r in data], marker="o", label="wall")
    if all("replay_cpu_events_per_s" in r for r in data):
        cpu = [r["replay_cpu_events_per_s"] / 1000 for r in data]
        rate.plot(sizes, cpu, marker="o", label="CPU time")
    rate.legend()
    rate.set(xscale="log", xlabel="memories", ylabel="thousand events/s", title="Full replay")
    rate.set_ylim(bottom=0)
    for ax in (lat, rate):
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=100)


if __name__ == "__main__":
    main()
