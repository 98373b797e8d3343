"""The tables the site is built from, out of result documents: pure functions of the
results and of what the repository declares (``Declared``), no file read but the
tables themselves (``read_tables``).

``cells``     one row per machine x workload x framework x mode: status, reason,
              medians with intervals, single-valued metrics, completeness.
``cases``     one row per cell x case of operations workloads (and per extra
              precision of training ones): status, work, median, percentiles.
``ceilings``  per machine and precision, the best matrix-product FLOP/s measured
              there (from the workloads that declare ``ceiling: true``); the
              training rows' ``utilisation`` is relative to it.
``samples``   every raw timing sample, long format, for the charts.
``facts``     single-valued facts a workload records (graph breaks, say).
``noise``     the pooled between-process noise per machine, profile and workload.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.core import instruments, noise, quiet, results, statistics
from pipeline.core.frameworks import FRAMEWORKS
from pipeline.publish import scale_out
from pipeline.publish.compare import compiled_note


@dataclass(frozen=True)
class Declared:
    """What the repository declares now, as the tables read it: per (workload, profile)
    the processes and samples a complete cell has (``counts``), and the workloads whose
    matrix products set a machine's ceiling."""

    counts: dict
    ceiling_workloads: tuple[str, ...]


def declared(config: dict, workloads: dict) -> Declared:
    """``Declared`` from the config's process counts and the workloads' profiles."""
    return Declared(
        counts={(name, profile): {"processes": config["processes"][profile], "samples": spec["timing"]["samples"]}
                for name, w in workloads.items() for profile, spec in w.spec["profiles"].items()},
        ceiling_workloads=tuple(n for n, w in workloads.items() if w.spec.get("ceiling")))


SUMMARY_FIELDS = ("median", "ci_low", "ci_high", "q1", "q3", "min", "max", "cv", "n", "unstable", "unstable_part",
                  "between_spread")


def _order(framework: str, mode: str) -> int:
    names = list(FRAMEWORKS)
    fw = FRAMEWORKS.get(framework)
    return names.index(framework) * 10 + (fw.modes.index(mode) if fw and mode in fw.modes else 9)


def cell_row(result: dict, pooled: noise.Noise | None = None) -> dict:
    """``pooled``: the between-process noise of the cell's workload on its machine (``noise.csv``)."""
    fw = FRAMEWORKS[result["framework"]]
    row = {
        "machine_id": result["machine_id"],
        "workload": result["workload"],
        "framework": result["framework"],
        "framework_label": fw.label,
        "mode": result["mode"],
        "mode_label": fw.mode_labels.get(result["mode"], result["mode"]),
        "cell": f"{fw.label} {fw.mode_labels.get(result['mode'], result['mode'])}",
        "order": _order(result["framework"], result["mode"]),
        "profile": result["profile"],
        "status": result["status"],
        "reason": result["reason"],
        "device_kind": (result.get("device") or {}).get("kind"),
        "device_name": (result.get("device") or {}).get("name"),
        "recorded_at": result["provenance"]["recorded_at"],
        "framework_version": _framework_version(result),
        "train_steps": (result.get("timing") or {}).get("train_steps"),
        "batch_size": (result.get("timing") or {}).get("batch_size"),
        "unit": (result.get("timing") or {}).get("unit"),
    }
    for name, metric in result["metrics"].items():
        if "/" in name:  # an operations case's metric: in cases.csv
            continue
        row[name] = metric["value"]
        for field in SUMMARY_FIELDS if "summary" in metric else ():
            row[f"{name}.{field}"] = metric["summary"].get(field)  # older summaries lack the newer fields
        if "summary" in metric:
            row.update(repeat_columns(name, metric, pooled))
    row.update(reason_columns(result, "graph_breaks"))
    processes = result["processes"]
    row["processes"] = len(processes)
    row["processes_ok"] = sum(p["status"] == "ok" for p in processes)
    counts = quiet.tally(processes)
    row["processes_contended"], row["canary_drift"] = counts["contended"], counts["canary_drift"]
    row["run_id"] = _run_id(result)
    row["instrument"] = instruments.version_of(result)
    row["samples_per_process"] = min((p["samples"] for p in processes), default=0)
    # what the cell's own plan asked for: a workload whose profile now asks for more
    # samples leaves a machine's earlier results stale (re-measured there), not incomplete
    row["samples_planned"] = (result.get("timing") or {}).get("samples")
    return row


def repeat_columns(name: str, metric: dict | None, pooled: noise.Noise | None = None) -> dict:
    """``{name}.repeat_low`` and ``.repeat_high``: where another run's median should land
    (``statistics.repeat_interval``, with the workload's ``pooled`` noise), from the samples,
    so that results stored before it existed have it too; None with one process."""
    span = None
    if metric and metric.get("samples"):
        span = statistics.repeat_interval(metric["samples"], metric.get("groups"), noise=pooled)
    low, high = span or (None, None)
    return {f"{name}.repeat_low": low, f"{name}.repeat_high": high}


def reason_columns(result: dict, metric: str) -> dict:
    """Whether the result counted graph breaks at all (a result measured before it did
    says nothing, which is not zero) and why ``metric``'s broke, as one line of text."""
    recorded = "graph_break_reasons" in result
    reasons = (result.get("graph_break_reasons") or {}).get(metric) or {}
    return {"graph_breaks_recorded": recorded,
            "graph_break_reasons": "; ".join(f"{n}× {why}" for why, n in reasons.items()) or None}


def _run_id(result: dict) -> str | None:
    """The DAG run that measured the cell; None before runs were recorded."""
    run = results.run_of(result)
    return None if run.startswith("unrecorded-") else run


def _framework_version(result: dict) -> str | None:
    versions = result["provenance"]["versions"]
    for dist in FRAMEWORKS[result["framework"]].distributions:
        if versions.get(dist):
            return f"{dist} {versions[dist]}"
    return None


def _owners(metric: dict, processes: list[dict]) -> list:
    """The index of the process each value came from: recorded with the metric, or,
    for results stored before it was, known when every process of the cell gave one
    group; else None (such samples are never paired round by round)."""
    if "samples" in metric:
        values, groups = metric["samples"], metric.get("groups")
    else:
        values = metric.get("per_process") or []
        groups = [1] * len(values)
    if not groups or sum(groups) != len(values):
        return [None] * len(values)
    owners = metric.get("processes")
    if owners is None and len(groups) == len(processes):
        owners = sorted(p["index"] for p in processes)
    if owners is None or len(owners) != len(groups):
        return [None] * len(values)
    return [owner for owner, n in zip(owners, groups, strict=True) for _ in range(n)]


def sample_rows(result: dict) -> list[dict]:
    rows = []
    for name, metric in result["metrics"].items():
        values = metric.get("samples") or metric.get("per_process") or []
        for i, (value, owner) in enumerate(zip(values, _owners(metric, result.get("processes") or []), strict=True)):
            if value is None:
                continue
            rows.append({
                "machine_id": result["machine_id"],
                "workload": result["workload"],
                "framework": result["framework"],
                "mode": result["mode"],
                "metric": name,
                "sample": i,
                "process": owner,
                "value": value,
            })
    return rows


def completeness(row: dict, declared: dict) -> dict:
    """Did the cell get every process and sample its profile declares? An incomplete
    cell is marked on the site, never silently pooled with complete ones."""
    want = declared.get((row["workload"], row["profile"]))
    if row["status"] != "ok" or want is None:
        return {"complete": row["status"] == "ok" and want is not None, "incomplete_reason": None}
    missing = []
    if row["processes_ok"] < want["processes"]:
        contended = f" ({row['processes_contended']} contended)" if row.get("processes_contended") else ""
        missing.append(f"{row['processes_ok']} of {want['processes']} processes{contended}")
    # the fewer of what the profile declares now and what the cell's own plan asked for
    planned = min(want["samples"], row.get("samples_planned") or want["samples"])
    if row["samples_per_process"] < planned:
        missing.append(f"{row['samples_per_process']} of {planned} samples per process")
    return {"complete": not missing, "incomplete_reason": ", ".join(missing) or None}


CASE_FIELDS = ("median", "ci_low", "ci_high", "p90", "p99", "cv", "unstable")


def case_rows(result: dict, pooled: noise.Noise | None = None) -> list[dict]:
    """Operations cases (and extra precisions): one row each, whatever their status."""
    fw = FRAMEWORKS[result["framework"]]
    declared = ((result.get("timing") or {}).get("cases")) or {}
    metrics = result["metrics"]
    training = "train_steps" in (result.get("timing") or {})
    rows = []
    for name, case in (result.get("cases") or {}).items():
        row = {"machine_id": result["machine_id"], "workload": result["workload"],
               "framework": result["framework"], "mode": result["mode"], "framework_label": fw.label,
               "mode_label": fw.mode_labels.get(result["mode"], result["mode"]),
               "cell": f"{fw.label} {fw.mode_labels.get(result['mode'], result['mode'])}",
               "order": _order(result["framework"], result["mode"]), "case": name,
               "status": case["status"], "reason": case["reason"], "run_id": _run_id(result),
               **declared.get(name, {})}
        for metric in ("time", "throughput"):
            summary = (metrics.get(f"{name}/{metric}") or {}).get("summary") or {}
            for field in CASE_FIELDS:
                row[f"{metric}.{field}"] = summary.get(field)
            row.update(repeat_columns(metric, metrics.get(f"{name}/{metric}"), pooled))
            row[f"{metric}.unit"] = (metrics.get(f"{name}/{metric}") or {}).get("unit")
        for key, metric in metrics.items():
            prefix, _, rest = key.partition("/")
            if prefix == name and rest not in ("time", "throughput"):
                row[rest] = metric["value"]
        # a training result's cases are its precisions, whose counts are cell metrics
        breaks = (f"graph_breaks{'' if name == 'fp32' else '_' + name}" if training else f"{name}/graph_breaks")
        row.update(reason_columns(result, breaks))
        row["compiled_note"] = compiled_note(
            row["graph_breaks_recorded"], (metrics.get(breaks) or {}).get("value"),
            (metrics.get(breaks.replace("graph_breaks", "retracings")) or {}).get("value"), row["graph_break_reasons"],
            result["mode"])
        rows.append(row)
    return rows


def fact_rows(all_results: list[dict]) -> list[dict]:
    """What each workload's neutral module computed from the data (sizes, baselines):
    one row per machine, workload and fact, from the first ok cell in table order.
    Every cell builds the same problem, so any ok one will do; values that are not
    numbers or text are written as JSON."""
    first: dict[tuple, dict] = {}
    for r in sorted(all_results, key=lambda r: (r["machine_id"], r["workload"], _order(r["framework"], r["mode"]))):
        if r["status"] == "ok" and isinstance(r.get("facts"), dict):
            first.setdefault((r["machine_id"], r["workload"]), r)
    rows = []
    for (machine_id, workload), r in first.items():
        for name, value in sorted(r["facts"].items()):
            text = value if isinstance(value, (str, int, float)) and not isinstance(value, bool) else json.dumps(value)
            rows.append({"machine_id": machine_id, "workload": workload, "profile": r["profile"],
                         "fact": name, "value": text})
    return rows


def ceilings(cases: pd.DataFrame, ceiling_workloads: list[str]) -> pd.DataFrame:
    """Best FLOP/s per machine and precision over the ceiling workload's ok cases."""
    columns = ["machine_id", "precision", "flops", "workload", "cell", "case"]
    if cases.empty or "throughput.median" not in cases:
        return pd.DataFrame(columns=columns)
    mine = cases[cases["workload"].isin(ceiling_workloads) & (cases["status"] == "ok")
                 & (cases["throughput.unit"] == "FLOP/s")].dropna(subset=["throughput.median"])
    if mine.empty:
        return pd.DataFrame(columns=columns)
    best = mine.loc[mine.groupby(["machine_id", "precision"])["throughput.median"].idxmax()]
    return best.rename(columns={"throughput.median": "flops"})[columns].reset_index(drop=True)


def add_utilisation(cells: pd.DataFrame, ceiling: pd.DataFrame) -> pd.DataFrame:
    """Achieved FLOP/s of training as a fraction of the machine's measured ceiling."""
    for precision, suffix in (("fp32", ""), ("bf16", "_bf16")):
        top = ceiling[ceiling["precision"] == precision].set_index("machine_id")["flops"]
        column = f"achieved_flops{suffix}"
        if column in cells:
            cells[f"utilisation{suffix}"] = cells[column] / cells["machine_id"].map(top)
    return cells


def build_tables(all_results: list[dict], declared: Declared) -> dict[str, pd.DataFrame]:
    """Every result table of ``all_results``, judged complete against ``declared``."""
    noise_rows = noise.rows(all_results)
    pooled = noise.of_rows(noise_rows)
    rows = [cell_row(r, pooled.get(noise.key(r))) for r in all_results]
    cells = pd.DataFrame([{**row, **completeness(row, declared.counts)} for row in rows])
    samples = pd.DataFrame([row for r in all_results for row in sample_rows(r)],
                           columns=["machine_id", "workload", "framework", "mode", "metric", "sample", "process",
                                    "value"])
    cases = pd.DataFrame([row for r in all_results for row in case_rows(r, pooled.get(noise.key(r)))])
    facts = pd.DataFrame(fact_rows(all_results), columns=["machine_id", "workload", "profile", "fact", "value"])
    ceiling = ceilings(cases, list(declared.ceiling_workloads))
    if not cells.empty:
        cells = add_utilisation(cells, ceiling)
        cells = cells.sort_values(["machine_id", "workload", "order"]).reset_index(drop=True)
    if not cases.empty:
        cases = cases.sort_values(["machine_id", "workload", "order"], kind="stable").reset_index(drop=True)
    return {"cells": cells, "samples": samples, "cases": cases, "ceilings": ceiling, "facts": facts,
            "noise": pd.DataFrame(noise_rows, columns=noise.COLUMNS)}


def over_ceiling(cells: pd.DataFrame, data_dir: Path) -> dict[tuple, str]:
    """Cells whose training FLOP/s exceed their machine's measured ceiling (the best
    matrix product there): a utilisation above 100% is a tampered or mis-counted
    result, refused with its file and field."""
    out = {}
    for suffix in ("", "_bf16"):
        column = f"utilisation{suffix}"
        if cells.empty or column not in cells:
            continue
        for row in cells[cells[column] > 1.0].to_dict("records"):
            key = (row["machine_id"], row["workload"], row["framework"], row["mode"])
            path = results.result_path(data_dir, *key, row["profile"])
            out[key] = over_ceiling_message(path, suffix, row[f"achieved_flops{suffix}"],
                                            row[f"achieved_flops{suffix}"] / row[column])
    return out


def over_ceiling_message(source, suffix: str, flops: float, ceiling: float) -> str:
    """The one wording of an impossible utilisation, for aggregate and verify alike."""
    precision = "bf16" if suffix else "fp32"
    return (f"{source}: field metrics.achieved_flops{suffix}.value: {flops:.4g} FLOP/s is "
            f"{100 * flops / ceiling:.0f}% of this machine's measured ceiling for {precision} ({ceiling:.4g} FLOP/s); "
            "at most 100% is possible")


def read_table(path: Path) -> pd.DataFrame:
    """One table ``aggregate`` (or a later step) wrote; empty when missing or empty."""
    try:
        return pd.read_csv(path)
    except (pd.errors.EmptyDataError, FileNotFoundError):
        return pd.DataFrame()


def read_tables(tables_dir: Path) -> dict:
    """The tables ``aggregate`` wrote, plus ``refused`` (a list of messages)."""
    tables_dir = Path(tables_dir)
    tables = {name: read_table(tables_dir / f"{name}.csv")
              for name in ("cells", "samples", "cases", "ceilings", "facts", "comparisons", "break_even",
                           "ergonomics", "noise", "variance", "estimators", "instruments", "machine_pairs")}
    tables["scale_out"] = scale_out.load(tables_dir / "scale_out.json")
    tables["refused"] = json.loads((tables_dir / "refused.json").read_text())
    for name in ("machines", "timer_checks", "guide", "reproduction", "machine_differences"):
        path = tables_dir / f"{name}.json"
        tables[name] = json.loads(path.read_text()) if path.is_file() else []
    return tables
