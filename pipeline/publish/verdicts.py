"""Judge every claim of the ledger on every machine with results.

One row per claim and machine (snapshot figures: one row, ``public sources``):
the verdict, the reason, each side's value and cell, the ratio with its 95%
interval, whether that interval straddles the threshold, and the page that shows
the evidence. A claim that no measurement can settle gets one row naming the
source that would.

Where both sides' figures come from processes that ran in the same two or more
rounds (pipeline/core/schedule.py puts a claim's cells side by side in each), the
ratio is taken round by round (``statistics.paired_ratio``), so the machine's drift over the run
cancels instead of tilting the verdict; ``paired_rounds`` says how many rounds.
Otherwise the interval is the conservative one from the two sides' own intervals.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.core import catalogue, noise, quiet, snapshot, statistics
from pipeline.core.ecosystem import FIGURES
from pipeline.core.frameworks import FRAMEWORKS
from pipeline.core.metrics import number
from pipeline.publish import bounds, scale_out
from pipeline.publish.claims import (
    AWAITING,
    CASE_METRICS,
    FAILS,
    HOLDS,
    IMPOSSIBLE,
    POSSIBLE,
    PUBLIC,
    SOURCE_FILES,
    UNMEASURABLE,
    UNSETTLED,
    Side,
    direction,
    parse_cells,
)

COLUMNS = ["claim", "machine_id", "verdict", "reason", "a_value", "a_cell", "b_value", "b_cell", "ratio",
           "ratio_low", "ratio_high", "paired_rounds", "close", "evidence"]


def _cells_label(items: list[str]) -> str:
    out = []
    for framework, mode in parse_cells(items):
        fw = FRAMEWORKS[framework]
        out.append(f"{fw.label} {fw.mode_labels[mode]}" if mode else f"{fw.label} (any mode)")
    return ", ".join(out)


def select_cells(frame: pd.DataFrame, items: list[str]) -> pd.DataFrame:
    mask = pd.Series(False, index=frame.index)
    for framework, mode in parse_cells(items):
        hit = frame["framework"] == framework
        if mode:
            hit &= frame["mode"] == mode
        mask |= hit
    return frame[mask]


def _best(rows: pd.DataFrame, column: str, better: str, items: list[str], what: str) -> Side:
    """The best ok value over the side's cells, with its 95% interval where one was measured."""
    if rows.empty:
        return Side(None, reason=f"no result for {_cells_label(items)} {what}")
    ok = rows[(rows["status"] == "ok")] if "status" in rows else rows
    ok = ok[ok[column].notna()] if column in ok else ok.iloc[0:0]
    if ok.empty:
        failed = [f"{r['cell']}: {r['status']}" for r in rows.to_dict("records") if r.get("status", "ok") != "ok"]
        if not failed:
            return Side(None, reason=f"{column.removesuffix('.median')} was not recorded for {_cells_label(items)} "
                                     f"{what} on this machine's device")
        return Side(None, reason=f"no ok value of {column} for {_cells_label(items)} {what} ({', '.join(failed)})")
    row = ok.loc[ok[column].idxmax() if better == "higher" else ok[column].idxmin()]
    stem = column.removesuffix(".median")
    low, high = row.get(f"{stem}.ci_low"), row.get(f"{stem}.ci_high")
    run = row.get("run_id")
    return Side(float(row[column]), cell=row["cell"], low=number(low), high=number(high),
                key=(row["framework"], row["mode"]), run=run if isinstance(run, str) else None)


def rounds(samples: pd.DataFrame | None, machine: str, workload: str, sides: list[tuple[Side, str]]) -> list:
    """Per round, each side's samples of its metric from the processes of that round:
    [(a samples, b samples), ...] over the process indices both sides measured. Cells
    measured by different DAG runs (or before runs were recorded) share no round."""
    if (samples is None or samples.empty or any(side.key is None or side.run is None for side, _ in sides)
            or sides[0][0].run != sides[1][0].run):
        return []
    per_side = []
    for side, metric in sides:
        mine = samples[(samples["machine_id"] == machine) & (samples["workload"] == workload)
                       & (samples["framework"] == side.key[0]) & (samples["mode"] == side.key[1])
                       & (samples["metric"] == metric) & samples["process"].notna()]
        per_side.append({int(p): g["value"].to_numpy(float) for p, g in mine.groupby("process")})
    common = sorted(set(per_side[0]) & set(per_side[1]))
    return [(per_side[0][i], per_side[1][i]) for i in common
            if len(per_side[0][i]) and len(per_side[1][i]) and np.all(per_side[1][i] > 0)]


def _runs_apart(machines: list | None, machine: str, a: Side, b: Side | None) -> str | None:
    """Why the two sides, measured by different DAG runs on this machine, are not one
    machine's figures (their speed indices moved apart); None when they may be compared."""
    if b is None or None in (a.value, b.value) or a.run is None or b.run is None or a.run == b.run:
        return None
    speed = {run["run_id"]: {"blas_s": run["speed_blas_ms"] / 1000, "python_s": run["speed_python_ms"] / 1000}
             for m in machines or [] if isinstance(m, dict) and m.get("machine_id") == machine
             for run in m.get("runs") or [] if run.get("speed_blas_ms") and run.get("speed_python_ms")}
    apart = quiet.speed_apart(speed.get(a.run), speed.get(b.run))
    if apart is None:
        return None
    return (f"side a ({a.cell}) was measured in run {a.run}, side b ({b.cell}) in run {b.run}, and the machine's "
            f"{apart}: not compared across the two runs")


def ratio_verdict(pred: dict, a: Side, b: Side | None, paired: list | None = None, pooled=None) -> dict:
    """Compare the ratio a/b (or a alone) with the thresholds. When its 95% interval
    reaches both sides of a threshold ('close') the verdict is UNSETTLED: the point
    estimate alone does not decide it. With two or more ``paired`` rounds the ratio and
    its interval are taken round by round, the interval from the workload's ``pooled``
    between-process noise where there is one."""
    if a.value is None or (b is not None and b.value is None):
        missing = a if a.value is None else b
        return {"verdict": AWAITING if missing.awaiting else UNMEASURABLE, "reason": missing.reason, "ratio": None,
                "close": False}
    if b is not None and b.value == 0:
        return {"verdict": UNMEASURABLE, "reason": "side b is zero: no ratio", "ratio": None, "close": False}
    ratio = a.value / b.value if b is not None else a.value
    paired_rounds = len(paired) if b is not None and paired and len(paired) >= 2 else 0
    if paired_rounds:
        ratio, *span = statistics.paired_ratio(paired, noise=pooled)
    elif b is not None and None not in (a.low, a.high, b.low, b.high) and b.low > 0:
        span = (a.low / b.high, a.high / b.low)
    elif b is None and None not in (a.low, a.high):
        span = (a.low, a.high)
    else:
        span = None
    checks, close = [], False
    for bound, ok in (("at_least", lambda r, t: r >= t), ("at_most", lambda r, t: r <= t)):
        if bound in pred:
            checks.append(ok(ratio, pred[bound]))
            if span and span[0] < pred[bound] < span[1]:
                close = True
    holds = all(checks)
    what = "ratio a/b" if b is not None else "value"
    paired_words = f", paired over {paired_rounds} rounds" if paired_rounds else ""
    wanted = " and ".join(f"{'≥' if k == 'at_least' else '≤'} {pred[k]:g}"
                          for k in ("at_least", "at_most") if k in pred)
    verdict = UNSETTLED if close else HOLDS if holds else FAILS
    return {"verdict": verdict, "ratio": ratio, "close": close,
            "ratio_low": span[0] if span else None, "ratio_high": span[1] if span else None,
            "paired_rounds": paired_rounds,
            "reason": f"{what} {ratio:.3g}{paired_words}, wanted {wanted}"
                      + (f"; its 95% interval {span[0]:.3g}–{span[1]:.3g} reaches both sides of the threshold, "
                         f"so these runs cannot settle it" if close else "")}


def _result_rows(claim: dict, tables: dict) -> list[dict]:
    pred = claim["predicate"]
    cells, cases = tables["cells"], tables["cases"]
    training = pred.get("case") is None
    frame = cells if training else cases
    # the machines that measured this workload: only their pages have a section to link to
    machines = sorted({m for t in (cells, cases) if not t.empty
                       for m in t[t["workload"] == pred["workload"]]["machine_id"]})
    rows = []
    for machine in machines:
        evidence = f"workloads/{pred['workload']}.md#on-{machine}"
        mine = frame[(frame["machine_id"] == machine) & (frame["workload"] == pred["workload"])] \
            if not frame.empty else frame
        kinds = set(cells[cells["machine_id"] == machine]["device_kind"].dropna())
        wanted = set(pred.get("hardware", ())) or None
        if wanted is not None:
            machine_cells = cells[(cells["machine_id"] == machine) & (cells["workload"] == pred["workload"])]
            on_kind = set(machine_cells["device_kind"].dropna())
            if not (on_kind & wanted):
                rows.append({"claim": claim["id"], "machine_id": machine, "verdict": UNMEASURABLE,
                             "reason": f"a claim about {', '.join(sorted(wanted))}; {machine} measured on "
                                       f"{', '.join(sorted(kinds)) or 'no device'}",
                             "evidence": evidence})
                continue
            if "device_kind" in mine:
                mine = mine[mine["device_kind"].isin(wanted)] if training else mine
        sides, sampled = [], []
        for side, metric_key, case_key in (("a", "metric", "case"), ("b", "b_metric", "b_case")):
            if side not in pred:
                sides.append(None)
                continue
            metric = pred.get(metric_key, pred["metric"])
            case = pred.get(case_key, pred.get("case"))
            if case is None:
                # the cell's value: the median over samples or processes, also where one
                # process alone has it (a compiled mode's cold first step: no .median summary)
                column, rows_side = metric, select_cells(mine, pred[side])
                if column not in rows_side:
                    column = f"{metric}.median"
                what = f"in {pred['workload']}"
            else:
                column = CASE_METRICS[metric][0]
                rows_side = select_cells(mine[mine["case"] == case], pred[side]) if not mine.empty else mine
                what = f"in {pred['workload']}/{case}"
            sides.append(_best(rows_side, column, direction(pred, metric), pred[side], what))
            # the samples behind the figure, per process; a figure with none (a percentile, a
            # cold start measured once) is not paired
            sampled.append((sides[-1], metric if case is None else f"{case}/{metric}"))
        a, b = sides
        apart = _runs_apart(tables.get("machines"), machine, a, b)
        if apart:
            rows.append({"claim": claim["id"], "machine_id": machine, "verdict": UNMEASURABLE, "reason": apart,
                         "a_value": a.value, "a_cell": a.cell, "b_value": b.value, "b_cell": b.cell,
                         "evidence": evidence})
            continue
        paired = rounds(tables.get("samples"), machine, pred["workload"], sampled) if len(sampled) == 2 else None
        # the pooled noise is that of timed samples: a per-process value (an accuracy, a count) keeps its own
        timed = all(getattr(catalogue.find(m.rpartition("/")[2]), "sampled", False) for _, m in sampled)
        pooled = noise.by_workload(tables.get("noise")).get((machine, pred["workload"])) if timed else None
        rows.append({"claim": claim["id"], "machine_id": machine, **ratio_verdict(pred, a, b, paired, pooled),
                     "a_value": a.value, "a_cell": a.cell, "b_value": b.value if b else None,
                     "b_cell": b.cell if b else None, "evidence": evidence})
    if not rows:
        rows.append({"claim": claim["id"], "machine_id": None, "verdict": UNMEASURABLE,
                     "reason": "no machine has results yet", "evidence": f"workloads/{pred['workload']}.md"})
    return rows


SNAPSHOT = "in the snapshot"


def _ecosystem_side(figures: dict, items: list[str], figure: str, where: str) -> Side:
    values = []
    for framework, _ in parse_cells(items):
        entry = figures.get(framework, {})
        value = entry.get(figure, {}).get("value") if isinstance(entry.get(figure), dict) else None
        if value is None:
            # the fetch error stays in the snapshot for maintainers; readers get what it means
            missing = "not retrieved from its public source" if where == SNAPSHOT else f"not measured {where}"
            return Side(None, reason=f"{FIGURES[figure].title} of {FRAMEWORKS[framework].label}: {missing}",
                        awaiting=where == SNAPSHOT)
        values.append((value, FRAMEWORKS[framework].label))
    better = FIGURES[figure].better
    value, label = (max if better == "higher" else min)(values, key=lambda v: v[0]) if better else values[0]
    return Side(value, cell=label)


def _ecosystem_rows(claim: dict, ecosystem: dict) -> list[dict]:
    pred = claim["predicate"]
    figure = FIGURES[pred["ecosystem"]]
    evidence = f"ecosystem.md#{figure.name.replace('_', '-')}"
    if figure.kind == "snapshot":
        sources = [(PUBLIC, ecosystem_figures(ecosystem, "snapshot"), SNAPSHOT)]
    else:
        sources = [(machine, ecosystem_figures(ecosystem, "live", machine), f"on {machine}")
                   for machine in sorted(ecosystem.get("live", {}))]
    rows = []
    for machine, figures, where in sources:
        a = _ecosystem_side(figures, pred["a"], figure.name, where)
        b = _ecosystem_side(figures, pred["b"], figure.name, where) if "b" in pred else None
        rows.append({"claim": claim["id"], "machine_id": machine, **ratio_verdict(pred, a, b), "a_value": a.value,
                     "a_cell": a.cell, "b_value": b.value if b else None, "b_cell": b.cell if b else None,
                     "evidence": evidence})
    if not rows:
        rows.append({"claim": claim["id"], "machine_id": None, "verdict": UNMEASURABLE,
                     "reason": "no ecosystem measurement yet", "evidence": evidence})
    return rows


def _scale_out_rows(claim: dict, counts: pd.DataFrame | None) -> list[dict]:
    """A claim about the lines that change from one device to many: one row, read from
    the files (the same on every machine)."""
    pred = claim["predicate"]
    evidence = "ergonomics.md#from-one-device-to-many"
    found = scale_out.values(counts if counts is not None else pd.DataFrame(columns=scale_out.COLUMNS),
                             pred["scale_out"])
    sides = []
    for key in ("a", "b"):
        if key not in pred:
            sides.append(None)
            continue
        have = [(number(found[fw][pred["measure"]]), FRAMEWORKS[fw].label) for fw, _ in parse_cells(pred[key])
                if fw in found]
        have = [(value, label) for value, label in have if value is not None]
        if len(have) < len(pred[key]):
            sides.append(Side(None, reason=f"no count of {pred['scale_out']} for every framework of side {key}"))
            continue
        # the best of the side: for these measures, the framework that needed the fewest changes
        sides.append(Side(*(min if direction(pred) == "lower" else max)(have)))
    a, b = sides
    return [{"claim": claim["id"], "machine_id": SOURCE_FILES, **ratio_verdict(pred, a, b), "a_value": a.value,
             "a_cell": a.cell, "b_value": b.value if b else None, "b_cell": b.cell if b else None,
             "evidence": evidence}]


def judge(doc: dict, tables: dict, ecosystem: dict, references: dict | None = None) -> pd.DataFrame:
    """Every claim's verdicts. ``ecosystem``: {"snapshot": snapshot doc, "live": {machine: live doc}};
    ``references``: the peaks and model costs a bound reads (``bounds.load_references``),
    needed only when the ledger has a bound."""
    rows = []
    for claim in doc["claims"]:
        if "bound" in claim:
            if references is None:
                raise ValueError(f"claim {claim['id']}: a bound needs the peaks and model costs")
            rows.append(bounds.judge(claim, references))
            continue
        if "unmeasurable" in claim:
            settle = claim["unmeasurable"]["settled_by"]
            rows.append({"claim": claim["id"], "machine_id": None, "verdict": UNMEASURABLE,
                         "reason": f"no measurement can settle it: {claim['unmeasurable']['why']}",
                         "evidence": settle["url"]})
        elif "needs" in claim:
            rows.append({"claim": claim["id"], "machine_id": None, "verdict": UNMEASURABLE,
                         "reason": f"needs {claim['needs']}", "evidence": None})
        elif "ecosystem" in claim["predicate"]:
            rows += _ecosystem_rows(claim, ecosystem)
        elif "scale_out" in claim["predicate"]:
            rows += _scale_out_rows(claim, tables.get("scale_out"))
        else:
            rows += _result_rows(claim, tables)
    return pd.DataFrame(rows).reindex(columns=COLUMNS)


def ecosystem_figures(ecosystem: dict, kind: str, machine: str | None = None) -> dict[str, dict]:
    """framework -> {figure: entry}: the snapshot's figures, or one machine's live ones."""
    if kind == "snapshot":
        return ecosystem.get("snapshot", {}).get("frameworks", {})
    doc = ecosystem.get("live", {}).get(machine, {})
    return {fw: entry.get("figures", {}) for fw, entry in doc.get("frameworks", {}).items()}


def load_ecosystem(data_dir: Path) -> dict:
    """The stored snapshot (validated) and every machine's live measurement."""
    folder = Path(data_dir) / "ecosystem"
    path = folder / "snapshot.json"
    out = {"snapshot": snapshot.load(path) if path.is_file() else {}, "live": {}}
    for live in sorted((folder / "live").glob("*.json")):
        doc = json.loads(live.read_text())
        out["live"][doc["machine_id"]] = doc
    return out


def _overall(v: pd.Series) -> str:
    if v.isin([IMPOSSIBLE, POSSIBLE]).any():
        return v.iloc[0]
    if (v == HOLDS).any():
        return "mixed" if (v == FAILS).any() else HOLDS
    if (v == FAILS).any():
        return FAILS
    if (v == UNSETTLED).any():
        return UNSETTLED
    return AWAITING if (v == AWAITING).any() else UNMEASURABLE


def summary(verdicts: pd.DataFrame) -> dict[str, int]:
    counts = verdicts.groupby("claim")["verdict"].agg(_overall)
    return {k: int(v) for k, v in counts.value_counts().items()}
