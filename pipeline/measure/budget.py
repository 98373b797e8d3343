"""How long a profile takes on an accelerator, computed before anything runs.

For each workload the neutral problem is built at the profile's sizes (NumPy
only, no framework) and its FLOP counts are set against the accelerator's
published peaks (``site_data/accelerators.yaml``, every figure with its source and
the date it was read):

* **the 5 ms rule**: a timed training step, and a timed sample of a throughput
  case whose FLOPs are counted, would take at least ``MIN_SAMPLE_S`` even at the
  peak rate of its precision, so launch overhead and timer resolution cannot
  dominate what is measured. Latency cases (one request per sample) and cases
  whose FLOPs are not counted (a Python loop of single-example calls) measure
  overhead by design and are exempt.
* **the compute floor**: the seconds of arithmetic one process does at peak,
  warm-up and timed work together. Real runs are slower; start-up and
  compilation are not arithmetic. Those are read from a suite run's log
  (``python -m pipeline run-suite`` writes one) where one is given: the
  CPU rehearsal's per-process durations are the measured stand-in until an
  accelerator run's log exists.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from pipeline.contract import DECLARATION_FILE
from pipeline.core.config import Cell
from pipeline.core.frameworks import FRAMEWORKS
from pipeline.core.metrics import missing
from pipeline.core.references import AcceleratorError, peaks
from pipeline.core.registry import Workload, WorkloadError

#: the shortest timed step or sample allowed at the published peak
MIN_SAMPLE_S = 0.005
#: the precisions the GPU profile times, whose peaks the budget needs
PRECISIONS = ("fp32", "bf16")
#: what the compute estimate assumes of a small model on a big accelerator: a
#: quarter of peak (stated on every table; the run's log replaces it)
ASSUMED_EFFICIENCY = 0.25


@dataclass
class Item:
    """One timed thing of a process: a training precision or an operations case."""

    name: str
    precision: str
    #: FLOPs of one timed step (training) or one call (a case); None: not counted
    flops: float | None
    #: steps or calls per timed sample
    per_sample: int
    #: steps or calls a process runs in all (first, warm-up, timed)
    total: int
    exempt: str | None = None

    def sample_s(self, peak: dict[str, float]) -> float | None:
        return None if self.flops is None else self.flops * self.per_sample / peak[self.precision]

    def step_s(self, peak: dict[str, float]) -> float | None:
        return None if self.flops is None else self.flops / peak[self.precision]


def items(workload: Workload, profile: str) -> list[Item]:
    """What one process of the workload times at ``profile``, with FLOP counts."""
    spec = workload.profile(profile)
    plan = spec["timing"]
    try:
        problem = workload.make_problem(0, **spec["size"])
    except (TypeError, ValueError) as err:
        raise WorkloadError(f"{workload.folder / DECLARATION_FILE}: field profiles.{profile}.size: "
                            f"make_problem() refused it: {err}") from None
    if workload.is_training:
        steps = 1 + plan["warmup_steps"] + plan["samples"] * plan["steps_per_sample"]
        found = [Item(f"train {p}", p, problem.flops_per_train_step, plan["steps_per_sample"], steps)
                 for p in workload.spec.get("precisions", ["fp32"])]
        found.append(Item("predict", "fp32", problem.flops_per_example_forward * plan["inference_batch"],
                          plan["steps_per_sample"], plan["warmup_steps"] + plan["samples"] * plan["steps_per_sample"],
                          exempt="inference timing after training"))
        return found
    found = []
    for name, case in problem.cases.items():
        per_sample = 1 if case.latency else case.repeat
        exempt = ("latency: one request per sample" if case.latency
                  else None if case.flops_per_call is not None else "FLOPs not counted (overhead-bound by design)")
        found.append(Item(name, case.precision, case.flops_per_call, per_sample,
                          1 + plan["warmup_steps"] + plan["samples"] * per_sample, exempt))
    return found


def workload_row(workload: Workload, profile: str, cells: int, processes: int, peak: dict[str, float]) -> dict:
    """The budget line of one workload: the 5 ms rule and the compute floor."""
    found = items(workload, profile)
    ruled = [i for i in found if i.exempt is None]
    # training: each step must reach 5 ms in fp32 and each sample in every precision;
    # a case: each sample
    shortest = min(
        (min(i.sample_s(peak), i.step_s(peak)) if workload.is_training and i.precision == "fp32"
         else i.sample_s(peak) for i in ruled),
        default=None,
    )
    floor = sum((i.flops or 0.0) * i.total / peak[i.precision] for i in found)
    return {
        "workload": workload.name,
        "cells": cells,
        "processes": processes,
        "timed_items": len(ruled),
        "exempt_items": len(found) - len(ruled),
        "shortest_ms": None if shortest is None else shortest * 1000,
        "meets_5ms": shortest is not None and shortest >= MIN_SAMPLE_S - 1e-12,
        "flop_per_process": sum((i.flops or 0.0) * i.total for i in found),
        "floor_s_per_process": floor,
        "compute_s": floor / ASSUMED_EFFICIENCY * cells * processes,
    }


def overheads(log: dict) -> dict[tuple[str, str, str], tuple[float, float]]:
    """(first process s, median later process s) per cell of a suite run's log."""
    by_cell: dict[tuple[str, str, str], dict[int, float]] = {}
    for proc in log["processes"]:
        key = (proc["workload"], proc["framework"], proc["mode"])
        by_cell.setdefault(key, {})[proc["index"]] = proc["duration_s"]
    out = {}
    for key, durations in by_cell.items():
        first = durations.get(0, max(durations.values()))
        later = [d for i, d in durations.items() if i > 0]
        out[key] = (first, statistics.median(later) if later else first)
    return out


def accelerator(accelerators: dict, name: str, source: str) -> dict:
    """The entry ``name`` of the accelerators table read from ``source``; AcceleratorError
    where there is none, or where it lacks a peak of :data:`PRECISIONS` (a peak we
    could not source is not guessed)."""
    if name not in accelerators:
        raise AcceleratorError(f"{source}: field accelerators: no entry {name!r} (known: {', '.join(accelerators)})")
    lacking = set(PRECISIONS) - set(peaks(accelerators[name]))
    if lacking:
        raise AcceleratorError(f"{source}: field accelerators.{name}.figures: no "
                               f"{' or '.join(sorted(f'{p}_flops' for p in lacking))}, which the budget needs")
    return accelerators[name]


def runnable(cells: list[Cell], frameworks: list[str]) -> list[Cell]:
    """The cells a machine with ``frameworks`` installed can run (a Keras mode needs its backend too)."""
    return [c for c in cells if set(FRAMEWORKS[c.framework].needs(c.mode)) <= set(frameworks)]


def plan(workloads: dict[str, Workload], cells: list[Cell], profile: str, processes: int,
         accelerator: dict, log: dict | None = None) -> list[dict]:
    """One row per workload; with a log, the measured start-up and compile
    overhead of its cells is added to the compute estimate."""
    peak = peaks(accelerator)
    measured = overheads(log) if log else {}
    rows = []
    for name, workload in workloads.items():
        mine = [c for c in cells if c.workload == name]
        if not mine:
            continue
        row = workload_row(workload, profile, len(mine), processes, peak)
        known = [measured[(c.workload, c.framework, c.mode)] for c in mine
                 if (c.workload, c.framework, c.mode) in measured]
        row["overhead_s"] = (sum(first + (processes - 1) * later for first, later in known)
                             if known and len(known) == len(mine) else None)
        row["estimate_s"] = None if row["overhead_s"] is None else row["overhead_s"] + row["compute_s"]
        rows.append(row)
    return rows


def _fmt(value, digits: int = 1) -> str:
    if missing(value):
        return "–"
    return f"{value:,.{digits}f}"


def table(rows: list[dict], accelerator: dict, budget_s: float | None = None) -> str:
    """Markdown: the rule, the floor and, where a log was given, the estimate."""
    peak = peaks(accelerator)
    head = (f"Accelerator: {accelerator['name']}; peaks " +
            ", ".join(f"{p} {v / 1e12:,.1f} TFLOP/s" for p, v in peak.items()) +
            f"; compute estimated at {ASSUMED_EFFICIENCY:.0%} of peak.\n\n")
    lines = ["| workload | cells | processes | shortest timed step/sample at peak (ms) | >= 5 ms | "
             "GFLOP per process | compute floor per process (s) | compute, all processes (s) | "
             "start-up + compile, measured (s) | estimate (s) |",
             "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['workload']} | {r['cells']} | {r['processes']} | {_fmt(r['shortest_ms'])} | "
            f"{'yes' if r['meets_5ms'] else 'NO'} | {_fmt(r['flop_per_process'] / 1e9, 0)} | "
            f"{_fmt(r['floor_s_per_process'], 3)} | {_fmt(r['compute_s'])} | {_fmt(r['overhead_s'])} | "
            f"{_fmt(r['estimate_s'])} |")
    total = [r["estimate_s"] for r in rows]
    compute = sum(r["compute_s"] for r in rows)
    tail = f"\nCompute, all workloads: {compute:,.1f} s."
    if total and all(t is not None for t in total):
        tail += f" Estimate with the log's start-up and compile times: {sum(total):,.0f} s"
        tail += f" (budget {budget_s:,.0f} s)." if budget_s else "."
    return head + "\n".join(lines) + tail + "\n"
