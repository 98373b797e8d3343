"""Comparisons the site states in words, derived from the tables: which cell is
faster than which (only where significant), and when compiling pays off. Written
as tables by ``aggregate`` (``comparisons.csv``, ``break_even.csv``), so a reader
can download them and pages only render them."""

from __future__ import annotations

import math

import pandas as pd

from pipeline.core import noise
from pipeline.core.frameworks import FRAMEWORKS
from pipeline.core.metrics import missing
from pipeline.core.statistics import PROCESS_TEST, compare

EAGER = "eager"


def compiled_vs_eager() -> dict[tuple[str, str], str | None]:
    """Every compiled mode -> its framework's eager mode (None where it has none)."""
    return {(fw.name, mode): EAGER if EAGER in fw.modes else None
            for fw in FRAMEWORKS.values() for mode in fw.modes if mode != EAGER}


def _samples(samples: pd.DataFrame, framework: str, mode: str, metric: str) -> tuple[list[float], list[int] | None]:
    """A cell's samples of ``metric``, and how many each process took (None when the
    samples were stored before processes were recorded apart)."""
    mask = (samples["framework"] == framework) & (samples["mode"] == mode) & (samples["metric"] == metric)
    rows = samples.loc[mask]
    owners = rows["process"] if "process" in rows else pd.Series(dtype=float)
    groups = None
    if len(rows) and owners.notna().all():
        groups = [int(n) for n in owners.groupby(owners, sort=True).size()]
    return rows["value"].tolist(), groups


def sentence(a_label: str, b_label: str, result: dict, what: str) -> str:
    """Worded with the larger one first, so every stated ratio is at least 1."""
    p_value = result.get("p_value")
    stats = (f"{PROCESS_TEST}: p = {p_value:.2g}" if p_value is not None and not pd.isna(p_value)
             else "one process a side: no test between processes")
    if result["verdict"] == "no measurable difference":
        return (f"{a_label} vs {b_label}: no measurable difference in {what} (ratio {result['ratio']:.2f}, "
                f"95% CI {result['ci_low']:.2f}–{result['ci_high']:.2f}, {stats})")
    ratio, low, high = result["ratio"], result["ci_low"], result["ci_high"]
    if ratio < 1:
        a_label, b_label, ratio, low, high = b_label, a_label, 1 / ratio, 1 / high, 1 / low
    return f"{a_label} has {ratio:.2f}x the {what} of {b_label} (95% CI {low:.2f}–{high:.2f}, {stats})"


def comparisons(cells: pd.DataFrame, samples: pd.DataFrame, threshold: float, alpha: float,
                metric: str = "train_throughput", what: str = "training throughput",
                pooled: noise.Noise | None = None) -> list[dict]:
    """Each framework's best mode against the others', and each compiled mode against
    its framework's eager mode. Only complete ``ok`` cells take part. ``pooled``: the
    workload's between-process noise on the machine, for the test over processes."""
    ok = cells[(cells["status"] == "ok") & cells["complete"].astype(bool)]
    if ok.empty or f"{metric}.median" not in ok:
        return []
    pairs = []
    best = ok.loc[ok.groupby("framework")[f"{metric}.median"].idxmax()].sort_values("order")
    rows = list(best.itertuples())
    for i, a in enumerate(rows):
        for b in rows[i + 1:]:
            pairs.append((a, b, "best mode of each framework"))
    by_cell = {(r.framework, r.mode): r for r in ok.itertuples()}
    for (framework, mode), eager in compiled_vs_eager().items():
        if eager and (framework, mode) in by_cell and (framework, eager) in by_cell:
            pairs.append((by_cell[(framework, mode)], by_cell[(framework, eager)], "compiled vs eager"))
    out = []
    for a, b, kind in pairs:
        xa, groups_a = _samples(samples, a.framework, a.mode, metric)
        xb, groups_b = _samples(samples, b.framework, b.mode, metric)
        if len(xa) < 3 or len(xb) < 3:
            continue
        result = compare(xa, xb, threshold, alpha, groups_a, groups_b, pooled)
        out.append({"kind": kind, "a": a.cell, "b": b.cell, **result,
                    "sentence": sentence(a.cell, b.cell, result, what)})
    return out


def _count(value) -> int | None:
    return None if missing(value) else int(value)


def compiled_note(recorded, breaks, retracings, reasons, mode: str | None = None) -> str:
    """What compiling covered, in words, for a cell's or a case's table row. An eager
    ``mode`` compiles nothing, so it has nothing to report, measured before or after.
    ``recorded``: the result counted graph breaks at all (results measured before did
    not: "not recorded", never zero); no count then means the mode compiles nothing
    that can break or retrace and has nothing to report."""
    if mode == EAGER:
        return "not applicable"
    if _count(recorded) is None or not recorded:  # NaN or None (a table from before), or False
        return "not recorded"
    breaks, retracings = _count(breaks), _count(retracings)
    if breaks:
        why = f" ({reasons})" if isinstance(reasons, str) and reasons else ""
        return f"partly eager: {breaks} graph break{'s' if breaks > 1 else ''}{why}"
    if breaks == 0:
        return "compiled whole: no graph breaks"
    if retracings:
        return f"retraced {retracings} time{'s' if retracings > 1 else ''} beyond each function's first trace"
    if retracings == 0:
        return "compiled whole: no retracing"
    return "not applicable"


def break_even(cells: pd.DataFrame) -> list[dict]:
    """After how many training steps a compiled mode's total time (compile included)
    drops below its framework's eager mode: total(N) = first step + (N - 1) x step."""
    ok = cells[cells["status"] == "ok"]
    by_cell = {(r.framework, r.mode): r for r in ok.itertuples()}
    out = []
    for (framework, mode), eager in compiled_vs_eager().items():
        if (framework, mode) not in by_cell:
            continue
        c = by_cell[(framework, mode)]
        row = {"cell": c.cell, "first_step_s": c.time_to_first_step,
               "warm_first_step_s": getattr(c, "time_to_first_step_warm_cache", math.nan), "step_s": c.train_step_time,
               "compilations": c.compilations_first_step, "recompilations": c.recompilations_steady_state,
               "graph_breaks": getattr(c, "graph_breaks", None), "retracings": getattr(c, "retracings", None),
               "compiled_note": compiled_note(*(getattr(c, name, None) for name in (
                   "graph_breaks_recorded", "graph_breaks", "retracings", "graph_break_reasons"))),
               "eager_cell": None, "eager_first_step_s": None, "eager_step_s": None, "break_even_steps": None,
               "note": f"{FRAMEWORKS[framework].label} has no eager mode here"}
        if eager and (framework, eager) in by_cell:
            e = by_cell[(framework, eager)]
            row.update(eager_cell=e.cell, eager_first_step_s=e.time_to_first_step, eager_step_s=e.train_step_time)
            gain = e.train_step_time - c.train_step_time
            extra = c.time_to_first_step - e.time_to_first_step
            if gain <= 0:
                row.update(note="never: not faster per step than eager")
            elif extra <= 0:
                row.update(break_even_steps=1, note="from the first step")
            else:
                row.update(break_even_steps=1 + math.ceil(extra / gain), note="")
        out.append(row)
    return out


COMPARISON_COLUMNS = ["machine_id", "workload", "kind", "a", "b", "ratio", "ci_low", "ci_high", "p_value",
                      "verdict", "threshold", "alpha", "sentence"]
BREAK_EVEN_COLUMNS = ["machine_id", "workload", "cell", "first_step_s", "warm_first_step_s", "step_s", "compilations",
                      "recompilations", "graph_breaks", "retracings", "compiled_note",
                      "eager_cell", "eager_first_step_s", "eager_step_s", "break_even_steps", "note"]


def derived_tables(cells: pd.DataFrame, samples: pd.DataFrame, threshold: float,
                   alpha: float, noise_table: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """``comparisons`` and ``break_even`` for every training workload on every machine;
    ``noise_table``: ``noise.csv``, whose pooled noise the comparisons test with."""
    pooled = noise.by_workload(noise_table)
    compared, even = [], []
    if not cells.empty and "train_throughput.median" in cells:
        for (machine_id, workload), group in cells.groupby(["machine_id", "workload"], sort=True):
            if not group["train_throughput.median"].notna().any():
                continue  # an operations workload, or no successful training cell
            theirs = samples[(samples["machine_id"] == machine_id) & (samples["workload"] == workload)]
            where = {"machine_id": machine_id, "workload": workload}
            compared += [{**where, **row} for row in comparisons(group, theirs, threshold, alpha,
                                                                 pooled=pooled.get((machine_id, workload)))]
            if {"time_to_first_step", "train_step_time"} <= set(group.columns):
                even += [{**where, **row} for row in break_even(group)]
    return {"comparisons": pd.DataFrame(compared, columns=COMPARISON_COLUMNS),
            "break_even": pd.DataFrame(even, columns=BREAK_EVEN_COLUMNS)}
