"""How much fresh processes of one cell disagree on a machine: the between-process
variance, pooled over every cell and sampled metric of a workload.

A cell has three processes per run in the default profile. Their spread alone is a
poor estimate of the noise (two degrees of freedom: Student's t is 4.30, and a cell
whose three processes happened to agree gets a range that the next run misses), so
the stored runs were read level by level (``python -m pipeline variance``): on the
project's 2-core machines the processes of different cells of one workload disagree
by about the same amount (the log of a process median has a standard deviation of
0.13-0.20 on every workload), while the spread of one cell's three processes ranges
from 0.005 to 0.4 by chance. So the variance is modelled as one random effect per
process, common to a workload's cells on one machine and profile, and estimated
from all of them (the pooled within-cell variance of the logs of the process
medians, with the degrees of freedom of the whole workload, 24-90 per run). Checked
on real repeat runs (``reproduce-report``): the repeat interval built on it held
91-97% of the next run's medians in each of four pairs of stored runs, against the
same share for the per-cell interval at about two thirds of its width. A
moderated (empirical Bayes) variance, between the two, held 88-98% and was not
narrower, so the simpler pooled one is used.

Logs, because a machine's noise scales its speed: the same model then serves a
throughput and its time per step."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from pipeline.core import instruments
from pipeline.core.statistics import process_logs

#: The columns of ``noise.csv``: one row per machine, profile and workload.
COLUMNS = ["machine_id", "profile", "workload", "variance", "sd", "df", "cells", "metrics"]


@dataclass(frozen=True)
class Noise:
    """The variance of the log of a process's median, and its degrees of freedom."""

    variance: float
    df: int

    @property
    def sd(self) -> float:
        return float(np.sqrt(self.variance))


def pool(metrics: Iterable[tuple[list, list[int] | None]]) -> Noise | None:
    """The pooled between-process variance of ``(samples, groups)`` pairs, each the
    metric of one cell; None when no pair has two processes."""
    squares, df = 0.0, 0
    for values, groups in metrics:
        logs = process_logs(values, groups)
        if logs is None:
            continue
        squares += float(((logs - logs.mean()) ** 2).sum())
        df += len(logs) - 1
    return Noise(squares / df, df) if df else None


def sampled(result: dict) -> list[tuple[list, list[int] | None]]:
    """A result's timed metrics from two or more processes, as ``(samples, groups)``."""
    return [(m["samples"], m.get("groups")) for m in (result.get("metrics") or {}).values()
            if isinstance(m, dict) and m.get("samples") and m.get("groups") and len(m["groups"]) >= 2]


def key(result: dict) -> tuple[str, str, str]:
    return result["machine_id"], result["profile"], result["workload"]


def rows(results: list[dict]) -> list[dict]:
    """``noise.csv``'s rows: the pooled noise, and how many cells and metrics it pools. Cells
    measured by different methods (``instruments``) are not pooled: the newest method's are."""
    grouped: dict[tuple, dict[int, list[list]]] = {}
    for result in results:
        found = sampled(result) if result.get("status") == "ok" else []
        if found:
            by_method = grouped.setdefault(key(result), {})
            by_method.setdefault(instruments.method_of(result) or 0, []).append(found)
    out = []
    for k, methods in sorted(grouped.items()):
        cells = methods[max(methods)]
        n = pool(metric for cell in cells for metric in cell)
        if n is not None:
            out.append({"machine_id": k[0], "profile": k[1], "workload": k[2], "variance": n.variance, "sd": n.sd,
                        "df": n.df, "cells": len(cells), "metrics": sum(len(cell) for cell in cells)})
    return out


def of_rows(found: Iterable[dict]) -> dict[tuple[str, str, str], Noise]:
    """``rows`` as (machine, profile, workload) -> Noise."""
    return {(r["machine_id"], r["profile"], r["workload"]): Noise(r["variance"], r["df"]) for r in found}


def of_results(results: Iterable[dict]) -> dict[tuple[str, str, str], Noise]:
    """The pooled noise per (machine, profile, workload) of results measured ok."""
    return of_rows(rows(list(results)))


def by_workload(table) -> dict[tuple[str, str], Noise]:
    """``noise.csv`` (a DataFrame, or None) as (machine, workload) -> Noise: the published
    tables hold one profile per machine."""
    if table is None or table.empty:
        return {}
    found = {(r["machine_id"], r["workload"]): from_row(r) for r in table.to_dict("records")}
    return {k: v for k, v in found.items() if v is not None}


def from_row(row: dict) -> Noise | None:
    """A ``noise.csv`` row back into a Noise (None for a missing or empty row)."""
    if not row or row.get("df") in (None, 0) or row.get("variance") is None:
        return None
    variance = float(row["variance"])
    return Noise(variance, int(row["df"])) if np.isfinite(variance) else None
