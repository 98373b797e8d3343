"""Collect every result file into pandas tables under ``site_data/tables/``.

``cells.csv``   one row per machine x workload x framework x mode: status, reason,
                medians with intervals, single-valued metrics.
``samples.csv`` every raw timing sample, long format, for the charts.
``refused.json`` result files that could not be used, with the reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from . import results
from .frameworks import FRAMEWORKS

SUMMARY_FIELDS = ("median", "ci_low", "ci_high", "q1", "q3", "min", "max", "cv", "n", "unstable")


def _order(framework: str, mode: str) -> int:
    names = list(FRAMEWORKS)
    fw = FRAMEWORKS.get(framework)
    return names.index(framework) * 10 + (fw.modes.index(mode) if fw and mode in fw.modes else 9)


def cell_row(result: dict) -> dict:
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
    }
    for name, metric in result["metrics"].items():
        row[name] = metric["value"]
        for field in SUMMARY_FIELDS if "summary" in metric else ():
            row[f"{name}.{field}"] = metric["summary"][field]
    processes = result["processes"]
    row["processes"] = len(processes)
    row["processes_ok"] = sum(p["status"] == "ok" for p in processes)
    row["samples_per_process"] = min((p["samples"] for p in processes), default=0)
    return row


def _framework_version(result: dict) -> str | None:
    versions = result["provenance"]["versions"]
    for dist in FRAMEWORKS[result["framework"]].distributions:
        if versions.get(dist):
            return f"{dist} {versions[dist]}"
    return None


def sample_rows(result: dict) -> list[dict]:
    rows = []
    for name, metric in result["metrics"].items():
        for i, value in enumerate(metric.get("samples") or metric.get("per_process") or []):
            if value is None:
                continue
            rows.append({
                "machine_id": result["machine_id"],
                "workload": result["workload"],
                "framework": result["framework"],
                "mode": result["mode"],
                "metric": name,
                "sample": i,
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
        missing.append(f"{row['processes_ok']} of {want['processes']} processes")
    if row["samples_per_process"] < want["samples"]:
        missing.append(f"{row['samples_per_process']} of {want['samples']} samples per process")
    return {"complete": not missing, "incomplete_reason": ", ".join(missing) or None}


def declared_counts() -> dict:
    """(workload, profile) -> the processes and samples the repository declares now."""
    from .config import load
    from .registry import discover

    config = load()
    return {
        (name, profile): {"processes": config["processes"][profile], "samples": spec["timing"]["samples"]}
        for name, w in discover().items()
        for profile, spec in w.spec["profiles"].items()
    }


def build_tables(all_results: list[dict], declared: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    declared = declared_counts() if declared is None else declared
    rows = [cell_row(r) for r in all_results]
    cells = pd.DataFrame([{**row, **completeness(row, declared)} for row in rows])
    samples = pd.DataFrame([row for r in all_results for row in sample_rows(r)],
                           columns=["machine_id", "workload", "framework", "mode", "metric", "sample", "value"])
    if not cells.empty:
        cells = cells.sort_values(["machine_id", "workload", "order"]).reset_index(drop=True)
    return cells, samples


def aggregate(data_dir: Path, out_dir: Path) -> tuple[pd.DataFrame, list[str]]:
    found, refused = results.load_all(data_dir)
    cells, samples = build_tables(found)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cells.to_csv(out_dir / "cells.csv", index=False)
    samples.to_csv(out_dir / "samples.csv", index=False)
    (out_dir / "refused.json").write_text(json.dumps(refused, indent=1) + "\n")
    return cells, refused


def read_tables(tables_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    tables_dir = Path(tables_dir)
    try:
        cells = pd.read_csv(tables_dir / "cells.csv")
    except pd.errors.EmptyDataError:
        cells = pd.DataFrame()
    samples = pd.read_csv(tables_dir / "samples.csv")
    refused = json.loads((tables_dir / "refused.json").read_text())
    return cells, samples, refused
