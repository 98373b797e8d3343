"""Which location estimator a repeat run reproduces best: each candidate is read from
every stored run of a machine (current and kept), and each run is set against the one
before it, figure by figure.

The site shows the median of a cell's samples. Chen and Revels ("Robust benchmarking
in noisy environments", 2016) argue that on a shared machine the noise is mostly added
delay, so the minimum time (the fastest sample) is the estimator that resists it; the
mean of the process medians uses the process as the unit. Which one to publish is
decided by what repeat runs on the machines at hand show, not by argument: the share of
figures a later run put within ±5%, ±10% and ±25% of the earlier run's, and the median
and 90th percentile of the change. Every headline figure is a throughput (higher is
faster), so "fastest" is the largest sample. ``python -m pipeline variance`` prints the
table; ``aggregate`` writes it as ``estimators.csv`` and the methodology page shows it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.core import instruments, statistics
from pipeline.core import results as result_files
from pipeline.publish.variance import headline_figures

#: Each candidate, what it reads; the first is the one the site shows.
ESTIMATORS = {
    "median": "median of all samples (shown on the site)",
    "process_mean": "geometric mean of the process medians",
    "best_median": "median over processes of each one's fastest sample",
    "best": "fastest sample of all (the minimum time)",
}
COLUMNS = ["machine_id", "estimator", "description", "pairs", "figures", "within_5", "within_10", "within_25",
           "median_change", "p90_change"]


def estimates(parts: list[np.ndarray]) -> dict[str, float]:
    """Every candidate's value for one figure, from its processes' samples."""
    medians = np.array([np.median(p) for p in parts])
    bests = np.array([p.max() for p in parts])
    return {"median": float(np.median(np.concatenate(parts))),
            "process_mean": float(np.exp(np.log(medians).mean())),
            "best_median": float(np.median(bests)),
            "best": float(bests.max())}


def figures(found: list[dict]) -> pd.DataFrame:
    """One row per machine, run and headline figure measured ok in two or more processes,
    with every candidate's value."""
    rows = []
    for r in found:
        if r.get("status") != "ok":
            continue
        for name, (metric, _) in headline_figures(r).items():
            parts = [p for p in statistics.split(metric.get("samples") or [], metric.get("groups")) if len(p)]
            if len(parts) < 2 or any(np.any(p <= 0) for p in parts):
                continue
            rows.append({"machine_id": r["machine_id"], "run": result_files.run_of(r),
                         "method": instruments.method_of(r),
                         "figure": f"{r['workload']} {r['framework']} {r['mode']} {name}", **estimates(parts)})
    return pd.DataFrame(rows, columns=["machine_id", "run", "method", "figure", *ESTIMATORS])


def changes(frame: pd.DataFrame) -> pd.DataFrame:
    """Per machine and figure, each run set against the last earlier run that measured the
    figure by the same method (run ids sort by time; a run of a few workloads does not break
    the others' pairs): each estimator's later value over its earlier one, and the pair of runs."""
    out = []
    for (machine, _, _), mine in frame.drop_duplicates(["machine_id", "figure", "run"]).groupby(
            ["machine_id", "figure", "method"], sort=True, dropna=False):
        mine = mine.sort_values("run")
        values = mine[list(ESTIMATORS)].to_numpy(float)
        runs = mine["run"].tolist()
        for i in range(1, len(mine)):
            out.append({"machine_id": machine, "pair": f"{runs[i - 1]} -> {runs[i]}",
                        **dict(zip(ESTIMATORS, values[i] / values[i - 1], strict=True))})
    return pd.DataFrame(out, columns=["machine_id", "pair", *ESTIMATORS])


def table(found: list[dict]) -> pd.DataFrame:
    """``estimators.csv``: one row per machine and estimator."""
    moved = changes(figures(found))
    rows = []
    for machine, mine in moved.groupby("machine_id", sort=True):
        for name, description in ESTIMATORS.items():
            # as the reproduce report reads a change: |later / earlier - 1|
            change = np.abs(mine[name].to_numpy(float) - 1)
            rows.append({"machine_id": machine, "estimator": name, "description": description,
                         "pairs": mine["pair"].nunique(), "figures": len(change),
                         "within_5": float(np.mean(change <= 0.05)), "within_10": float(np.mean(change <= 0.10)),
                         "within_25": float(np.mean(change <= 0.25)), "median_change": float(np.median(change)),
                         "p90_change": float(np.percentile(change, 90))})
    return pd.DataFrame(rows, columns=COLUMNS)


def text(frame: pd.DataFrame) -> str:
    """The table as plain text."""
    lines = [f"{'machine':<14} {'estimator':<13} {'pairs':>5} {'figures':>7} {'±5%':>5} {'±10%':>5} {'±25%':>5} "
             f"{'median':>7} {'p90':>6}"]
    for r in frame.itertuples():
        lines.append(f"{r.machine_id:<14} {r.estimator:<13} {r.pairs:>5} {r.figures:>7} {100 * r.within_5:>4.0f}% "
                     f"{100 * r.within_10:>4.0f}% {100 * r.within_25:>4.0f}% {100 * r.median_change:>6.1f}% "
                     f"{100 * r.p90_change:>5.1f}%")
    lines.append("±5/10/25%: share of figures a later run put that close to the run before; median, p90: |later / "
                 "earlier - 1|")
    return "\n".join(lines)
