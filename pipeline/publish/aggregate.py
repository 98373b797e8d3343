"""Write the site's tables under ``site_data/tables/``: the result tables
(``pipeline/publish/tables.py``: cells, cases, ceilings, samples, facts, noise), the
comparisons derived from them, each machine's provenance and runs, the comparison of
each cell with its measurement before (``pipeline/publish/reproduce.py``), the
variance levels, and ``refused.json``: the result files that could not be used, with
the reason.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd

from pipeline.core import instruments, quiet, results
from pipeline.publish import estimators, reproduce, variance
from pipeline.publish.compare import derived_tables
from pipeline.publish.machines import pairs as machine_pairs
from pipeline.publish.tables import Declared, build_tables, over_ceiling


def machines(found: list[dict]) -> list[dict]:
    """One entry per machine with results (of any profile): hardware, versions,
    knobs, dates, the commits measured."""
    by_machine: dict[str, list[dict]] = {}
    for r in found:
        by_machine.setdefault(r["machine_id"], []).append(r)
    out = []
    for machine_id, rs in sorted(by_machine.items()):
        latest = max(rs, key=lambda r: r["provenance"]["recorded_at"])
        ok = [r for r in rs if r["status"] == "ok"]
        knobs = {f"{r['framework']}": r["knobs"] for r in sorted(ok, key=lambda r: r["framework"])}
        devices = sorted({f"{r['device']['kind']}: {r['device']['name']}" for r in ok if r.get("device")})
        git = sorted({(r["provenance"]["git"]["sha"] or "unknown")[:10]
                      + (" (dirty)" if r["provenance"]["git"]["dirty"] else "") for r in rs})
        out.append({
            "id": machine_id,
            "measuring": measuring_time(rs),
            "hardware": latest["provenance"].get("hardware", {}),
            "python": latest["provenance"].get("python"),
            "platform": latest["provenance"].get("platform"),
            "versions": {k: v for k, v in sorted(latest["provenance"]["versions"].items()) if v},
            "profiles": sorted({r["profile"] for r in rs}),
            "first": min(r["provenance"]["recorded_at"] for r in rs),
            "last": latest["provenance"]["recorded_at"],
            "cells": len(rs),
            "ok": len(ok),
            "knobs": knobs,
            "devices": devices,
            "git": git,
            "runs": runs(rs),
        })
    return out


def runs(rs: list[dict]) -> list[dict]:
    """Per DAG run (newest first), from its processes' records: how many ran, were contended
    or saw their canary drift, the most other work seen beside one, and the speed index (the
    median canary reading). Processes measured before runs were recorded form one row, id None."""
    by_run: dict[str | None, list[dict]] = {}
    profiles: dict[str | None, set] = {}
    versions: dict[str | None, set] = {}
    for r in rs:
        version = instruments.version_of(r)
        for p in r.get("processes") or []:
            by_run.setdefault(p.get("run_id"), []).append(p)
            profiles.setdefault(p.get("run_id"), set()).add(r["profile"])
            if version is not None:
                versions.setdefault(p.get("run_id"), set()).add(version)
    out = []
    for run_id, ps in by_run.items():
        counts = quiet.tally(ps)
        outside = [p["interference"]["outside_cores"] for p in ps if p.get("interference")]
        apparatus = [p["interference"]["apparatus_cores"] for p in ps
                     if (p.get("interference") or {}).get("apparatus_cores") is not None]
        out.append({
            "run_id": run_id,
            "profiles": sorted(profiles[run_id]),
            "instruments": sorted(versions.get(run_id, ())),
            "first_start": min((p.get("started_at") or "") for p in ps) or None,
            "processes": len(ps),
            "recorded": len(outside),
            **{k: counts[k] for k in ("contended", "reruns", "canary_drift", "steal_flagged")},
            "outside_cores_max": max(outside) if outside else None,
            "apparatus_cores_max": max(apparatus) if apparatus else None,
            "speed_blas_ms": 1000 * counts["speed"]["blas_s"] if counts["speed"] else None,
            "speed_python_ms": 1000 * counts["speed"]["python_s"] if counts["speed"] else None,
        })
    return sorted(out, key=lambda run: run["first_start"] or "", reverse=True)


def instrument_table(found: list[dict]) -> pd.DataFrame:
    """``instruments.csv``: every instrument version, what it changed, its method, and how
    many published cells of each machine it measured."""
    counts: dict[int, dict[str, int]] = {}
    for r in found:
        version = instruments.version_of(r)
        if version is not None:
            per = counts.setdefault(version, {})
            per[r["machine_id"]] = per.get(r["machine_id"], 0) + 1
    rows = [{**row, "cells": "; ".join(f"{m}: {n}" for m, n in sorted(counts.get(row["version"], {}).items()))}
            for row in instruments.rows()]
    return pd.DataFrame(rows, columns=[*instruments.COLUMNS, "cells"])


def _when(text) -> dt.datetime | None:
    try:
        when = dt.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else None


def measuring_time(rs: list[dict]) -> dict:
    """Per profile, from the processes' own records: how many ran, the seconds they
    spent together, and when the first started and the last ended (the span also
    holds the DAG's own work between processes)."""
    spans: dict[str, list] = {}
    for r in rs:
        for p in r.get("processes") or []:
            start, end = _when(p.get("started_at")), _when(p.get("ended_at"))
            if start and end:
                spans.setdefault(r["profile"], []).append((start, end, float(p.get("duration_s") or 0.0)))
    out = {}
    for profile, ps in sorted(spans.items()):
        first, last = min(p[0] for p in ps), max(p[1] for p in ps)
        out[profile] = {"processes": len(ps), "in_processes_s": sum(p[2] for p in ps),
                        "first_start": first.isoformat(timespec="seconds"),
                        "last_end": last.isoformat(timespec="seconds"), "span_s": (last - first).total_seconds()}
    return out


def aggregate(data_dir: Path, out_dir: Path, publish: list[str], comparison: dict,
              declared: Declared, workloads: dict) -> tuple[pd.DataFrame, list[str]]:
    """Tables of the published results: per machine, those of the first profile of
    ``publish`` it has; results of other profiles stay stored. ``comparison``: the
    threshold and alpha of the worded comparisons; ``declared``: what a complete cell has;
    ``workloads``: what the claims ledger is checked against (claims judged on the run before)."""
    found, refused = results.load_all(data_dir)
    everything = found
    found, _ = results.published(found, publish)
    tables = build_tables(found, declared)
    impossible = over_ceiling(tables["cells"], Path(data_dir))
    if impossible:
        refused = refused + sorted(impossible.values())
        found = [r for r in found if (r["machine_id"], r["workload"], r["framework"], r["mode"]) not in impossible]
        tables = build_tables(found, declared)
    tables.update(derived_tables(tables["cells"], tables["samples"], comparison["threshold"], comparison["alpha"],
                                 tables["noise"]))
    tables["machine_pairs"] = machine_pairs(tables["cells"], tables["cases"], tables["noise"])
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        results.replace_file(out_dir / f"{name}.csv", table.to_csv(index=False))
    # the kept runs, read once: the comparison with each cell's run before, and the variance levels
    kept = results.load_history(data_dir)
    runs_compared, reproduced, record, refused_history = reproduce.latest(Path(data_dir), everything, comparison,
                                                                          declared, workloads, kept)
    refused = refused + refused_history
    results.replace_file(out_dir / "refused.json", json.dumps(refused, indent=1) + "\n")
    results.replace_file(out_dir / "machines.json", json.dumps(machines(everything), indent=1) + "\n")
    results.replace_file(out_dir / "reproduction.csv", runs_compared.to_csv(index=False))
    results.replace_file(out_dir / "reproduced_by.csv", record.to_csv(index=False))
    shown = variance.published(everything, kept[0], publish)
    results.replace_file(out_dir / "variance.csv", variance.table(shown).to_csv(index=False))
    results.replace_file(out_dir / "estimators.csv", estimators.table(shown).to_csv(index=False))
    results.replace_file(out_dir / "instruments.csv", instrument_table(found).to_csv(index=False))
    results.replace_file(out_dir / "reproduction.json", json.dumps(reproduced, indent=1) + "\n")
    timer_checks = [json.loads(p.read_text()) for p in sorted((Path(data_dir) / "timer_check").glob("*.json"))]
    results.replace_file(out_dir / "timer_checks.json", json.dumps(timer_checks, indent=1) + "\n")
    return tables["cells"], refused
