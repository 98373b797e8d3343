"""Metric records, and how several measured processes combine into one cell.

A metric is either *sampled* (every timed sample kept: ``samples`` and their
``summary``) or a *per-process* scalar (one value per process: ``per_process``,
with a ``summary`` once there are two). Either way ``value`` is the headline: the
median. Combining processes pools the samples (``groups`` keeps how many came
from each process, for intervals that resample processes, and ``processes`` the
index of each group's process, for ratios paired round by round) and concatenates
the per-process values, so nothing measured is ever averaged away. A process that
ran beside other work (``contended``) is kept in the record but not in the figures.
"""

from __future__ import annotations

import math
import statistics as stdlib_statistics

from pipeline.core.statistics import summarize


def missing(value) -> bool:
    """No number here: None, or NaN (how a table read back writes an empty cell)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value) -> float | None:
    """``value`` as a float, or None where there is no number (missing, or text)."""
    return None if missing(value) or isinstance(value, str) else float(value)


#: How bad a process outcome is; a cell takes its worst process's status.
SEVERITY = {"ok": 0, "contended": 1, "unsupported": 2, "non-finite": 3, "incorrect": 4, "timeout": 5, "killed": 6,
            "out-of-memory": 7, "crashed": 8}


def sampled(unit: str, values: list[float], groups: list[int] | None = None) -> dict:
    """``groups``: samples per process, in order (default: all from one process)."""
    groups = list(groups) if groups else [len(values)]
    summary = summarize(values, groups)
    return {"unit": unit, "value": summary["median"], "samples": list(values), "groups": groups, "summary": summary}


def scalar(unit: str, value) -> dict:
    return {"unit": unit, "value": value, "per_process": [value]}


def _per_process(unit: str, values: list) -> dict:
    finite = [v for v in values if v is not None]
    entry = {"unit": unit, "value": stdlib_statistics.median(finite) if finite else None, "per_process": values}
    if len(finite) >= 2:
        entry["summary"] = summarize(finite)
    return entry


def merge_metrics(parts: list[dict], timing: dict | None) -> dict:
    names: list[str] = []
    for part in parts:
        names += [n for n in part["metrics"] if n not in names]
    merged = {}
    for name in names:
        having = [p for p in parts if name in p["metrics"]]
        entries = [p["metrics"][name] for p in having]
        unit = entries[0]["unit"]
        if "samples" in entries[0]:
            # results stored before processes were recorded apart count as one group each
            groups = [g for e in entries for g in (e.get("groups") or [len(e["samples"])])]
            merged[name] = sampled(unit, [v for e in entries for v in e["samples"]], groups)
            count = len(groups)
        else:
            merged[name] = _per_process(unit, [v for e in entries for v in e["per_process"]])
            count = len(merged[name]["per_process"])
        indices = _process_indices(having, entries)
        if indices is not None and len(indices) == count:
            merged[name]["processes"] = indices
    for name in merged:
        step = name.replace("achieved_flops", "train_step_time")
        if name.startswith("achieved_flops") and step in merged and timing:
            # FLOP/s at the pooled median step time, as for a single process
            merged[name]["value"] = timing["flops_per_train_step"] / merged[step]["value"]
    return merged


def _process_indices(parts: list[dict], entries: list[dict]) -> list[int] | None:
    """The process index of each group (or per-process value) of one metric, in order;
    None where a part's own record cannot say."""
    out: list[int] = []
    for part, entry in zip(parts, entries, strict=True):
        if entry.get("processes"):
            out += entry["processes"]
        elif len(part.get("processes") or []) == 1:
            out += [part["processes"][0]["index"]] * len(entry.get("groups") or entry.get("per_process") or [1])
        else:
            return None
    return out


def merge_cases(parts: list[dict]) -> dict:
    """A case takes its worst status over the processes that reached it."""
    merged: dict[str, dict] = {}
    for part in parts:
        for name, case in (part.get("cases") or {}).items():
            if name not in merged or SEVERITY[case["status"]] > SEVERITY[merged[name]["status"]]:
                merged[name] = case
    return merged


def merge_reasons(parts: list[dict]) -> dict:
    """Graph-break reasons over processes: each reason at the most any process counted
    (every process compiles the same code, so they are the same breaks seen again)."""
    merged: dict[str, dict[str, int]] = {}
    for part in parts:
        for name, reasons in (part.get("graph_break_reasons") or {}).items():
            into = merged.setdefault(name, {})
            for reason, n in reasons.items():
                into[reason] = max(into.get(reason, 0), n)
    # the schema keeps 10 reasons per count, the most frequent
    return {name: dict(sorted(r.items(), key=lambda item: (-item[1], item[0]))[:10]) for name, r in merged.items()}


def _cases(parts: list[dict], status: str, reason: str | None) -> dict:
    if status == "contended":
        return {name: {**case, "status": status, "reason": reason} for name, case in merge_cases(parts).items()}
    return merge_cases([p for p in parts if p["status"] != "contended"])


def combine(parts: list[dict]) -> dict:
    """Several results of the same cell (one or more processes each) -> one result."""
    if not parts:
        raise ValueError("nothing to combine")
    keys = {(p["machine_id"], p["workload"], p["framework"], p["mode"], p["profile"]) for p in parts}
    if len(keys) > 1:
        raise ValueError(f"cannot combine results of different cells: {sorted(keys)}")
    # in process order, so that each metric's samples are grouped by process in that order
    parts = sorted(parts, key=lambda p: min(proc["index"] for proc in p["processes"]))
    processes = sorted((proc for p in parts for proc in p["processes"]), key=lambda proc: proc["index"])
    # a contended process is left out of the figures; the cell is contended only if all were
    counted = [proc for proc in processes if proc["status"] != "contended"] or processes
    worst = max(counted, key=lambda proc: SEVERITY[proc["status"]])
    ok_parts = [p for p in parts if p["status"] == "ok"]
    timing = next((p["timing"] for p in ok_parts), None)
    reason = worst["reason"]
    if worst["status"] == "contended" and len(processes) > 1:
        reason = f"all {len(processes)} processes ran beside other work; process {worst['index'] + 1}: {reason}"
    elif worst["status"] != "ok" and len(processes) > 1:
        reason = f"process {worst['index'] + 1} of {len(processes)}: {reason}"
    latest = max(parts, key=lambda p: p["provenance"]["recorded_at"])
    # present only where some process counted graph breaks: absent means "not recorded"
    counted = {"graph_break_reasons": merge_reasons(ok_parts)} if any(
        "graph_break_reasons" in p for p in parts) else {}
    return {
        **parts[0],
        **counted,
        "status": worst["status"],
        "reason": reason,
        "stderr_tail": worst["stderr_tail"],
        "duration_s": sum(p["duration_s"] for p in parts),
        "device": next((p["device"] for p in ok_parts), parts[0]["device"]),
        "timing": timing,
        "processes": processes,
        "metrics": merge_metrics(ok_parts, timing) if ok_parts else {},
        "cases": _cases(parts, worst["status"], reason),
        "evidence": next((p["evidence"] for p in ok_parts if p.get("evidence")), None),
        "provenance": latest["provenance"],
    }
