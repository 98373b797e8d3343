"""Where a figure's variance lives: samples within a process, processes within a
run, and runs, per machine and workload, from every stored record (current and
kept runs), with what one more unit of each level costs in time.

Following Kalibera & Jones ("Rigorous benchmarking in reasonable time", ISMM
2013): repetitions pay off at the level whose variance is large for its cost.
Each headline figure (training throughput, each operations case's throughput) is
read in logs, because a machine's noise scales its speed. Per level:

- ``within_sd``: the standard deviation of one process's log samples (pooled);
- ``process_sd``: of the log of a process's median between processes of one cell
  in one run, less what its samples' noise alone explains (``π/2 · σ² / n`` for a
  median of ``n`` samples), so it is the processes' own disagreement;
- ``run_sd``: of a run's mean over its processes, between runs of one cell, less
  what the processes alone explain (``process variance / k``); it is what a second
  run adds that more processes in one run cannot average away.

A level whose variance estimate comes out below zero (its level above explains all
of it) reads 0. ``optimal_samples`` is Kalibera and Jones's count for the lower level:
``sqrt(process_s / sample_s · within² / process²)`` samples per process minimise
the variance of a figure for a given time.
``python -m pipeline variance`` prints the table; ``aggregate`` writes it as
``variance.csv`` and the methodology page shows it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from pipeline.core import statistics

COLUMNS = ["machine_id", "workload", "kind", "figures", "runs", "processes", "within_sd", "process_sd",
           "observed_process_sd", "run_sd", "samples_per_process", "sample_s", "process_s", "timed_share",
           "optimal_samples"]


def headline_figures(result: dict) -> dict[str, tuple[dict, float | None]]:
    """The figures read, each with the seconds one of its samples takes (None: unknown)."""
    metrics, timing = result.get("metrics") or {}, result.get("timing") or {}
    out = {}
    step = (metrics.get("train_step_time") or {}).get("value")
    if "train_throughput" in metrics:
        per_sample = timing.get("steps_per_sample")
        out["train_throughput"] = (metrics["train_throughput"], step * per_sample if step and per_sample else None)
    for name, case in (timing.get("cases") or {}).items():
        metric, time = metrics.get(f"{name}/throughput"), (metrics.get(f"{name}/time") or {}).get("value")
        if metric:
            out[f"{name}/throughput"] = (metric, time * case["repeat"] if time and case.get("repeat") else None)
    return out


def records(results: list[dict]) -> pd.DataFrame:
    """One row per process of every figure measured ok: its log median, the variance and
    count of its log samples, its run and what it cost."""
    rows = []
    for r in results:
        if r.get("status") != "ok":
            continue
        processes = {p["index"]: p for p in r.get("processes") or []}
        kind = "training" if "train_throughput" in (r.get("metrics") or {}) else "operations"
        for name, (metric, sample_s) in headline_figures(r).items():
            groups = metric.get("groups")
            if not metric.get("samples") or not groups:
                continue
            owners = metric.get("processes") or sorted(processes)[:len(groups)]
            for owner, part in zip(owners, statistics.split(metric["samples"], groups), strict=False):
                if len(part) < 2 or np.any(part <= 0):
                    continue
                p = processes.get(owner) or {}
                logs = np.log(part)
                rows.append({"machine_id": r["machine_id"], "workload": r["workload"], "kind": kind,
                             "figure": f"{r['framework']}-{r['mode']}:{name}", "run": p.get("run_id") or "unrecorded",
                             "log_median": float(np.median(logs)), "within_var": float(logs.var(ddof=1)),
                             "n": len(part), "sample_s": sample_s, "process_s": p.get("duration_s")})
    return pd.DataFrame(rows)


def _pooled_var(groups) -> tuple[float, int]:
    """Pooled variance of the values in each group about its own mean, and its degrees of freedom."""
    squares, df = 0.0, 0
    for values in groups:
        values = np.asarray(values, float)
        if len(values) >= 2:
            squares += float(((values - values.mean()) ** 2).sum())
            df += len(values) - 1
    return (squares / df, df) if df else (math.nan, 0)


def decompose(frame: pd.DataFrame) -> dict:
    """The levels of one group of process rows (one machine and workload)."""
    within_var = float(frame["within_var"].mean())
    n = float(frame["n"].mean())
    cells = frame.groupby(["figure", "run"])["log_median"]
    observed, _ = _pooled_var(values for _, values in cells)
    process_var = max(0.0, observed - math.pi / 2 * within_var / n) if not math.isnan(observed) else math.nan
    # runs: a cell's mean per run, between its runs
    k = float(cells.size().mean())
    per_run = cells.mean().reset_index()
    run_between, run_df = _pooled_var(values for _, values in per_run.groupby("figure")["log_median"])
    run_var = max(0.0, run_between - observed / k) if run_df else math.nan
    sample_s = float(frame["sample_s"].dropna().median()) if frame["sample_s"].notna().any() else math.nan
    process_s = float(frame["process_s"].dropna().median()) if frame["process_s"].notna().any() else math.nan
    optimal = (math.sqrt(process_s / sample_s * within_var / process_var)
               if process_var and process_var > 0 and sample_s > 0 else math.nan)
    return {"figures": frame["figure"].nunique(), "runs": frame["run"].nunique(), "processes": len(frame),
            "within_sd": math.sqrt(within_var), "process_sd": math.sqrt(process_var),
            "observed_process_sd": math.sqrt(observed), "run_sd": math.sqrt(run_var),
            "samples_per_process": n, "sample_s": sample_s, "process_s": process_s,
            "timed_share": n * sample_s / process_s if process_s > 0 else math.nan,
            "optimal_samples": optimal}


def published(current: list[dict], history: list[dict], profiles: list[str]) -> list[dict]:
    """The current and kept results of the machines' shown profile: per machine, the first
    of ``profiles`` its current results have (as the site shows them)."""
    shown = {}
    for r in current:
        rank = profiles.index(r["profile"]) if r["profile"] in profiles else len(profiles)
        shown[r["machine_id"]] = min(shown.get(r["machine_id"], len(profiles)), rank)
    return [r for r in current + history
            if r["profile"] in profiles and profiles.index(r["profile"]) == shown.get(r["machine_id"])]


def table(results: list[dict]) -> pd.DataFrame:
    """``variance.csv``: one row per machine and workload."""
    frame = records(results)
    if frame.empty:
        return pd.DataFrame(columns=COLUMNS)
    rows = [{"machine_id": machine, "workload": workload, "kind": group["kind"].iloc[0], **decompose(group)}
            for (machine, workload), group in frame.groupby(["machine_id", "workload"], sort=True)]
    return pd.DataFrame(rows, columns=COLUMNS)


def text(frame: pd.DataFrame) -> str:
    """The table as plain text, standard deviations as percentages of the figure."""
    head = (f"{'machine':<14} {'workload':<18} {'runs':>4} {'procs':>5} {'samples':>7} {'process':>7} {'run':>6} "
            f"{'n/proc':>6} {'sample s':>8} {'proc s':>6} {'timed':>5} {'best n':>6}")
    lines = [head]

    def pct(v) -> str:
        return "-" if pd.isna(v) else f"{100 * v:.1f}%"

    for r in frame.itertuples():
        lines.append(f"{r.machine_id:<14} {r.workload:<18} {r.runs:>4} {r.processes:>5} {pct(r.within_sd):>7} "
                     f"{pct(r.process_sd):>7} {pct(r.run_sd):>6} {r.samples_per_process:>6.0f} "
                     f"{'-' if pd.isna(r.sample_s) else f'{r.sample_s:.3f}':>8} {r.process_s:>6.1f} "
                     f"{pct(r.timed_share):>5} {'-' if pd.isna(r.optimal_samples) else f'{r.optimal_samples:.0f}':>6}")
    lines.append("samples/process/run: standard deviation of a log figure at each level (≈ the relative spread); "
                 "best n: samples per process that minimise the variance for the time spent")
    return "\n".join(lines)
