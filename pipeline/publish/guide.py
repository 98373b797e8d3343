"""The decision guide: scenarios from the articles, scored on our measurements.

``site_data/scenarios.yaml`` names, per scenario, the criteria that matter and where
each one's evidence lives: a measured metric (best over a framework's cells, or
over the modes listed), an ecosystem figure, or an ergonomics count. Per machine,
every framework gets a score per criterion relative to the best framework
(1.0 = best; value/best where higher is better, best/value where lower is), and the
recommendation is the highest weighted mean over the criteria it has a value for,
among the frameworks with a value on the most criteria (the others follow, marked
as partly measured).
The page's chooser recomputes the same mean in the browser from the same numbers
when a reader drops or re-weights criteria, so the data are embedded in the page.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from pipeline import SCHEMAS
from pipeline.core import results, validation
from pipeline.core.ecosystem import FIGURES
from pipeline.core.frameworks import FRAMEWORKS
from pipeline.publish import claims
from pipeline.publish.claims import CASE_METRICS, ClaimError, check_predicate, direction
from pipeline.publish.tables import read_tables
from pipeline.publish.verdicts import ecosystem_figures, load_ecosystem, select_cells

SCHEMA_PATH = SCHEMAS / "scenarios.schema.json"
ERGONOMICS = {"lines": ("Lines of code (median over the workloads every framework implements)", "lower"),
              "api_count": ("Distinct framework APIs (median over the workloads every framework implements)", "lower")}


def load(path: Path, workloads: dict, sources: set[str] | None = None, claim_ids: set[str] | None = None) -> dict:
    """Read and check the scenarios against ``workloads`` (and the ledger's ``sources``
    and ``claim_ids`` where given); raise ClaimError naming file, scenario and field."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text())
    except (FileNotFoundError, yaml.YAMLError) as err:
        raise ClaimError(f"{path}: cannot read: {err}") from None
    validation.check(doc, SCHEMA_PATH, path, ClaimError)
    problems = []
    seen: set[str] = set()
    for scenario in doc["scenarios"]:
        sid = scenario["id"]
        if sid in seen:
            problems.append(f"scenario {sid}: field id: used twice")
        seen.add(sid)
        for source in scenario["sources"]:
            if sources is not None and source not in sources:
                problems.append(f"scenario {sid}: field sources: no article with id {source!r} in claims.yaml")
        for cid in scenario.get("claims", []):
            if claim_ids is not None and cid not in claim_ids:
                problems.append(f"scenario {sid}: field claims: no claim with id {cid!r} in claims.yaml")
        for i, crit in enumerate(scenario["criteria"]):
            if "workload" in crit:
                pred = {"workload": crit["workload"], "metric": crit["metric"], "a": crit.get("cells", ["torch"]),
                        **({"case": crit["case"]} if "case" in crit else {})}
                problems += [f"scenario {sid}: field criteria.{i}.{m}" for m in check_predicate(pred, workloads)]
            elif "ecosystem" in crit and (crit["ecosystem"] not in FIGURES or FIGURES[crit["ecosystem"]].better
                                          is None):
                problems.append(f"scenario {sid}: field criteria.{i}.ecosystem: {crit['ecosystem']!r} is not "
                                f"a numeric figure; known: {', '.join(f for f, v in FIGURES.items() if v.better)}")
    if problems:
        raise ClaimError("\n".join(f"{path}: {p}" for p in problems))
    return doc


def _better(crit: dict) -> str:
    if "ergonomics" in crit:
        return ERGONOMICS[crit["ergonomics"]][1]
    return direction(crit)


def _measured(crit: dict, tables: dict, machine: str) -> dict[str, tuple[float, str, float | None]]:
    """framework -> (best value, cell label, noise) of a results criterion on one machine;
    the noise is the standard deviation of the log of one run's figure, from the cell's
    repeat interval (None where the figure has none: a single value, a count)."""
    if "case" in crit:
        frame, column = tables["cases"], CASE_METRICS[crit["metric"]][0]
        frame = frame[frame["case"] == crit["case"]] if not frame.empty else frame
    else:
        # the cell's value: the median over samples or processes, also where one process
        # alone has it (a compiled mode's cold first step), which has no .median summary
        frame, column = tables["cells"], crit["metric"]
        if column not in frame:
            column = f"{column}.median"
    if frame.empty or column not in frame:
        return {}
    mine = frame[(frame["machine_id"] == machine) & (frame["workload"] == crit["workload"])
                 & (frame["status"] == "ok")].dropna(subset=[column])
    if "cells" in crit:
        mine = select_cells(mine, crit["cells"])
    out = {}
    base = column.removesuffix(".median")
    for framework, group in mine.groupby("framework"):
        row = group.loc[group[column].idxmax() if _better(crit) == "higher" else group[column].idxmin()]
        out[framework] = (float(row[column]), row["cell"],
                          run_sd(row.get(f"{base}.repeat_low"), row.get(f"{base}.repeat_high")))
    return out


#: The repeat interval spans ±Z·√2 standard deviations of one run's log figure. It was built with
#: Student's t on the workload's degrees of freedom (2.0-2.06 for 24-90), so reading it with the normal
#: quantile overstates the noise by up to 5%, which errs towards calling a tie.
Z = 1.96


def run_sd(low, high) -> float | None:
    """The standard deviation of the log of one run's figure, from its repeat interval
    (which holds another run's figure, so carries two runs' errors: √2); None without one."""
    if low is None or high is None or pd.isna(low) or pd.isna(high) or low <= 0 or high <= low:
        return None
    return float(np.log(high / low) / 2 / (Z * np.sqrt(2)))


def values(crit: dict, tables: dict, machine: str, ecosystem: dict, ergonomics: pd.DataFrame) -> dict:
    """framework -> {"value", "detail", "evidence"} for one criterion on one machine."""
    out = {}
    if "workload" in crit:
        evidence = f"workloads/{crit['workload']}.md#on-{machine}"
        for framework, (value, cell, sd) in _measured(crit, tables, machine).items():
            out[framework] = {"value": value, "detail": cell, "evidence": evidence, "sd": sd}
    elif "ecosystem" in crit:
        figure = FIGURES[crit["ecosystem"]]
        for framework, entries in ecosystem_figures(ecosystem, figure.kind, machine).items():
            value = (entries.get(figure.name) or {}).get("value")
            if isinstance(value, (int, float)):
                out[framework] = {"value": float(value), "detail": figure.title,
                                  "evidence": f"ecosystem.md#{figure.name.replace('_', '-')}"}
    elif not ergonomics.empty:
        # like with like: every framework over the same workloads, those all of them implement
        # (Keras 3 has fewer; a median over more, longer workloads would tilt the comparison)
        common = set.intersection(*(set(g["workload"]) for _, g in ergonomics.groupby("framework")))
        shared = ergonomics[ergonomics["workload"].isin(common)]
        names = ", ".join(sorted(common))
        for framework, group in shared.groupby("framework"):
            out[framework] = {"value": float(group[crit["ergonomics"]].median()),
                              "detail": f"median over the {len(group)} workload(s) every framework implements "
                                        f"({names})", "evidence": "ergonomics.md"}
    return out


def score(crit: dict, found: dict) -> dict[str, float]:
    """1.0 for the best framework, proportionally less for the others."""
    nums = {f: v["value"] for f, v in found.items() if v["value"] is not None and v["value"] >= 0}
    if not nums:
        return {}
    if _better(crit) == "higher":
        best = max(nums.values())
        return {f: (v / best if best > 0 else 1.0) for f, v in nums.items()}
    best = min(nums.values())
    return {f: (best / v if v > 0 else 1.0) for f, v in nums.items()}


def recommend(scenario: dict, rows: list[dict], weights: dict | None = None) -> list[dict]:
    """Frameworks ranked by weighted mean score over the criteria they have values for;
    a framework missing a criterion marked ``required`` scores 0 on it."""
    ranking = []
    for framework in FRAMEWORKS:
        total = weight_sum = 0.0
        covered = 0
        for crit, row in zip(scenario["criteria"], rows, strict=True):
            weight = (weights or {}).get(crit["label"], crit.get("weight", 1.0))
            if weight <= 0:
                continue
            s = row["scores"].get(framework)
            if s is None and crit.get("required"):
                s = 0.0
            if s is None:
                continue
            total += weight * s
            weight_sum += weight
            covered += 1
        if weight_sum:
            ranking.append({"framework": framework, "label": FRAMEWORKS[framework].label,
                            "score": total / weight_sum, "covered": covered})
    # a framework measured on fewer criteria than another (Keras has no transformer
    # implementation, say) is ranked after those measured on all, whatever its mean
    most = max((r["covered"] for r in ranking), default=0)
    for r in ranking:
        r["partial"] = r["covered"] < most
    return sorted(ranking, key=lambda r: (r["partial"], -r["score"], -r["covered"]))


def answer(scenario: dict, rows: list[dict], ranking: list[dict]) -> dict:
    """The one-line answer the home page gives: the best fully measured framework,
    its score and its margin over the runner-up; or why there is none. A scenario
    about hardware the machine lacks gets no answer from numbers measured elsewhere."""
    lacking = [row["not_measurable"] for crit, row in zip(scenario["criteria"], rows, strict=True)
               if crit.get("hardware") and row["not_measurable"]]
    if lacking:
        return {"status": "needs hardware", "why": lacking[0]}
    full = [r for r in ranking if not r["partial"]]
    if not full:
        return {"status": "not measured", "why": "no criterion has a measured value"}
    top, runner_up = full[0], (full[1] if len(full) > 1 else None)
    spread = margin_interval(scenario, rows, top["framework"], runner_up["framework"]) if runner_up else None
    return {"status": "answered", "framework": top["framework"], "label": top["label"], "score": top["score"],
            "runner_up": runner_up["label"] if runner_up else None,
            "margin": top["score"] - runner_up["score"] if runner_up else None,
            "margin_low": spread[0] if spread else None, "margin_high": spread[1] if spread else None,
            # the margin's interval reaches zero: a repeat run could name the runner-up
            "tie": bool(spread and spread[0] <= 0),
            "criteria": len(scenario["criteria"]), "partial": [r["label"] for r in ranking if r["partial"]]}


#: Draws of the measured figures behind an answer's margin (fixed seed: the same pages from the same tables).
DRAWS = 2000


def margin_interval(scenario: dict, rows: list[dict], top: str, runner_up: str,
                    seed: int = 0) -> tuple[float, float]:
    """The 95% interval of the score margin of ``top`` over ``runner_up``: every measured
    figure that has a repeat interval is drawn again from its noise (lognormal around
    its median with the ``sd`` of one run's figure), the scores and the mean are
    recomputed as the page computes them, and the margin's 2.5th and 97.5th percentiles
    are taken. Figures without noise (counts, sizes, single values) stay as they are."""
    rng = np.random.default_rng(seed)
    margins = np.empty(DRAWS)
    for i in range(DRAWS):
        drawn = []
        for crit, row in zip(scenario["criteria"], rows, strict=True):
            found = {f: ({**v, "value": v["value"] * float(np.exp(rng.normal(0.0, v["sd"])))} if v.get("sd") else v)
                     for f, v in row["values"].items()}
            drawn.append({**row, "scores": score(crit, found)})
        by = {r["framework"]: r["score"] for r in recommend(scenario, drawn)}
        margins[i] = by.get(top, 0.0) - by.get(runner_up, 0.0)
    low, high = np.percentile(margins, [2.5, 97.5])
    return float(low), float(high)


def write(data_dir: Path, out: Path, workloads: dict) -> list[dict]:
    """Every scenario scored on every machine from the tables (``ergonomics.csv``
    included), the ecosystem figures and the ledger (both checked against
    ``workloads``), written as JSON for the page."""
    data_dir = Path(data_dir)
    ledger = claims.load(data_dir / "claims.yaml", workloads)
    doc = load(data_dir / "scenarios.yaml", workloads, sources={s["id"] for s in ledger["sources"]},
               claim_ids={c["id"] for c in ledger["claims"]})
    tables = read_tables(data_dir / "tables")
    evaluated = evaluate(doc, tables, load_ecosystem(data_dir), tables["ergonomics"])
    results.replace_file(Path(out), json.dumps(evaluated, indent=1) + "\n")
    return evaluated


def evaluate(doc: dict, tables: dict, ecosystem: dict, ergonomics: pd.DataFrame) -> list[dict]:
    """Every scenario on every machine: per-criterion values and scores, and the ranking."""
    machines = sorted(tables["cells"]["machine_id"].unique()) if not tables["cells"].empty else []
    out = []
    for scenario in doc["scenarios"]:
        per_machine = []
        for machine in machines:
            rows = []
            for crit in scenario["criteria"]:
                found = values(crit, tables, machine, ecosystem, ergonomics)
                hardware = crit.get("hardware")
                kinds = set(tables["cells"][tables["cells"]["machine_id"] == machine]["device_kind"].dropna())
                off = bool(hardware) and not (kinds & set(hardware))
                if off:
                    found = {}
                rows.append({"label": crit["label"], "why": crit["why"], "better": _better(crit),
                             "weight": crit.get("weight", 1.0), "required": crit.get("required", False),
                             "unit": crit.get("unit", ""), "values": found, "scores": score(crit, found),
                             "not_measurable": (f"needs {', '.join(hardware)}; {machine} has "
                                                f"{', '.join(sorted(kinds)) or 'no device'}") if off else None})
            ranking = recommend(scenario, rows)
            per_machine.append({"machine_id": machine, "criteria": rows, "ranking": ranking,
                                "answer": answer(scenario, rows, ranking)})
        out.append({**scenario, "machines": per_machine})
    return out

