"""The reader's pages built on the evidence: Claims vs evidence, Ecosystem, Decision
guide, FAQ, Ergonomics, Concept map and the notebook's companion page.

Each page's context comes from the stored data only (tables, verdicts, ecosystem
files, the claims ledger, the scenarios); ``pages.write_pages`` renders them.
"""

from __future__ import annotations

import math
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
from markupsafe import Markup

from pipeline import REPO_ROOT
from pipeline.core import snapshot
from pipeline.core.ecosystem import FIGURES
from pipeline.core.frameworks import FRAMEWORKS
from pipeline.core.metrics import missing
from pipeline.publish import bounds, concepts, ergonomics, faq, guide, notebook, scale_out
from pipeline.publish import claims as claims_mod
from pipeline.publish.bounds import BOUND, rate_words, share_range
from pipeline.publish.escaping import json_for_script, md, md_link
from pipeline.publish.formats import fmt_value
from pipeline.publish.verdicts import (
    AWAITING,
    FAILS,
    HOLDS,
    IMPOSSIBLE,
    POSSIBLE,
    UNMEASURABLE,
    UNSETTLED,
    load_ecosystem,
)

#: verdict -> CSS class of its mark; the mark is words, so it reads without an emoji font
BADGES = {HOLDS: "verdict-holds", FAILS: "verdict-fails", UNMEASURABLE: "verdict-unmeasurable",
          AWAITING: "verdict-awaiting", UNSETTLED: "verdict-unsettled", IMPOSSIBLE: "verdict-fails",
          POSSIBLE: "verdict-unmeasurable"}


def _metric_name(pred: dict, side: str) -> str:
    if "scale_out" in pred:
        return pred["measure"]
    if "ecosystem" in pred:
        return pred["ecosystem"]
    return pred.get("b_metric", pred["metric"]) if side == "b" else pred["metric"]


def _finite(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def claims_context(doc: dict, verdicts: pd.DataFrame, references: dict | None = None) -> dict:
    by_claim = {cid: g for cid, g in verdicts.groupby("claim")} if not verdicts.empty else {}
    sources = []
    tested_total = 0
    counts = {"holds": 0, "fails": 0, "mixed": 0, "unsettled": 0, "unmeasured": 0, "awaiting": 0, "needs": 0,
              "unmeasurable": 0}
    for source in doc["sources"]:
        mine = [c for c in doc["claims"] if c["source"] == source["id"]]
        tested = []
        for claim in (c for c in mine if "predicate" in c):
            pred = claim["predicate"]
            rows = []
            group = by_claim.get(claim["id"], pd.DataFrame(columns=["verdict"]))
            for v in group.to_dict("records"):
                a_name, b_name = _metric_name(pred, "a"), _metric_name(pred, "b")
                ratio = v.get("ratio")
                shown = ("–" if missing(ratio)
                         else f"{ratio:.3g}" if "b" in pred else fmt_value(a_name, ratio))
                detail = shown
                low, high, rounds = v.get("ratio_low"), v.get("ratio_high"), v.get("paired_rounds")
                if "b" in pred and shown != "–" and _finite(low) and _finite(high):
                    paired = f", paired over {int(rounds)} rounds" if _finite(rounds) and rounds >= 2 else ""
                    detail = f"{shown} ({low:.3g}–{high:.3g}{paired})"
                rows.append({
                    "machine_id": v["machine_id"] if isinstance(v["machine_id"], str) else None,
                    "verdict": v["verdict"],
                    "badge": v["verdict"],
                    "badge_class": BADGES[v["verdict"]],
                    "a": _side(a_name, v.get("a_value"), v.get("a_cell")),
                    "b": _side(b_name, v.get("b_value"), v.get("b_cell")) if "b" in pred else "–",
                    "ratio": shown, "ratio_detail": detail, "reason": v["reason"],
                    "evidence": v["evidence"] if isinstance(v["evidence"], str) else None,
                })
            kinds = {r["verdict"] for r in rows}
            if HOLDS in kinds and FAILS in kinds:
                counts["mixed"] += 1
            elif HOLDS in kinds:
                counts["holds"] += 1
            elif FAILS in kinds:
                counts["fails"] += 1
            elif UNSETTLED in kinds:
                counts["unsettled"] += 1
            elif AWAITING in kinds:
                counts["awaiting"] += 1
            else:
                counts["unmeasured"] += 1
            tested_total += 1
            named = claims_mod.parse_cells(pred.get("a", []) + pred.get("b", []))
            frameworks = sorted({FRAMEWORKS[f].label for f, _ in named if f in FRAMEWORKS})
            tested.append({"id": claim["id"], "claim": claim["claim"], "topic": claim.get("topic", "other"),
                           "test": claims_mod.describe(pred), "note": pred.get("note"), "verdicts": rows,
                           "frameworks": frameworks})
        sources.append({**source, "count": len(mine), "tested": tested})
    needs = [{**c} for c in doc["claims"] if "needs" in c]
    unmeasurable = [{**c, "why": c["unmeasurable"]["why"], "settled_by": c["unmeasurable"]["settled_by"]}
                    for c in doc["claims"] if "unmeasurable" in c]
    bound = bounds_context(doc, by_claim, references) if references else {"claims": [], "figures": []}
    counts.update(tested=tested_total, needs=len(needs), unmeasurable=len(unmeasurable),
                  bounds=len(bound["claims"]),
                  impossible=sum(c["verdict"] == IMPOSSIBLE for c in bound["claims"]))
    machines = sorted({m for m in verdicts.get("machine_id", []) if isinstance(m, str)}
                      - {claims_mod.PUBLIC, claims_mod.SOURCE_FILES, BOUND})
    return {"sources": sources, "needs": needs, "unmeasurable": unmeasurable, "counts": counts, "bounds": bound,
            "machines": machines, "read_dates": ", ".join(sorted({s["read"] for s in doc["sources"]}))}


def bounds_context(doc: dict, by_claim: dict, references: dict) -> dict:
    """The bound verdicts as the verdicts rule wrote them, and the sourced figures
    behind them (the peaks and model costs tables, as read)."""
    shown = []
    for claim in (c for c in doc["claims"] if "bound" in c):
        group = by_claim.get(claim["id"])
        if group is None or group.empty:
            raise ValueError(f"verdicts.csv: no row for the bound claim {claim['id']}; "
                             f"run `python -m pipeline verdicts`")
        v = group.iloc[0].to_dict()
        share = share_range(v["ratio_low"], v["ratio_high"])
        badge = v["verdict"] if v["verdict"] == IMPOSSIBLE else f"possible at {share}"
        shown.append({"id": claim["id"], "claim": claim["claim"], "source": claim["source"],
                      "note": claim["bound"].get("note"), "verdict": v["verdict"], "badge": badge,
                      "badge_class": BADGES[v["verdict"]], "claimed": v["a_cell"],
                      "needed": rate_words(v["a_value"]), "peak": v["b_cell"], "share": share,
                      "reason": v["reason"], "evidence": v["evidence"]})
    figures = []
    for acc in references["accelerators"].values():
        for name, fig in acc["figures"].items():
            figures.append({"what": f"{acc['name']}: {_FIGURE_WORDS[name]}", "value": _figure_value(fig),
                            **_cited(fig)})
    costs = references["models"]
    for model in costs["models"].values():
        for name in ("forward", "parameters", "tokens"):
            if name in model:
                figures.append({"what": f"{model['name']}: {name}", "value": _figure_value(model[name]),
                                **_cited(model[name])})
    figures.append({"what": "training step, against the forward pass", "value": _figure_value(costs["training_factor"]),
                    **_cited(costs["training_factor"])})
    return {"claims": shown, "figures": figures}


_FIGURE_WORDS = {"fp32_flops": "FP32 peak", "tf32_flops": "TF32 tensor peak", "bf16_flops": "BF16 peak",
                 "fp16_flops": "FP16 peak", "memory_bandwidth": "memory bandwidth"}


def _figure_value(fig: dict) -> str:
    value, unit = fig["value"], fig["unit"]
    if unit == "FLOP/s":
        return f"{value / 1e12:,.1f} TFLOP/s"
    if unit == "B/s":
        return f"{value / 1e12:,.2f} TB/s"
    if unit in ("FLOP", "multiply-adds"):
        return f"{value / 1e9:,.3g} G{'FLOP' if unit == 'FLOP' else ' multiply-adds'}"
    if unit == "parameters":
        return f"{value / 1e6:,.0f} M parameters"
    return f"{value:,.4g} {unit}"


def _cited(fig: dict) -> dict:
    return {"note": fig.get("note"), "source": fig["source"], "source_host": urlparse(fig["source"]).netloc,
            "read": fig["read"]}


def _side(name: str, value, cell) -> str:
    if missing(value):
        return "–"
    return f"{fmt_value(name, value)} ({cell})" if isinstance(cell, str) else fmt_value(name, value)


def ecosystem_context(ecosystem: dict) -> dict:
    live = ecosystem.get("live", {})
    machines = [{"machine_id": mid, "measured_at": doc.get("measured_at", "")[:10], "python": doc.get("python"),
                 "runs": doc.get("runs"), "largest": _largest(doc)} for mid, doc in sorted(live.items())]
    live_figures = []
    for figure in (f for f in FIGURES.values() if f.kind == "live"):
        rows = []
        for name, fw in FRAMEWORKS.items():
            cells = []
            for _, doc in sorted(live.items()):
                entry = doc.get("frameworks", {}).get(name, {})
                if not entry.get("installed", False):
                    cells.append("not installed")
                    continue
                fig = entry.get("figures", {}).get(figure.name) or {}
                text = fmt_value(figure.name, fig.get("value"))
                cells.append(text + (f" ({fig['note']})" if fig.get("note") else ""))
            rows.append({"label": fw.label, "cells": cells})
        live_figures.append({"title": figure.title, "anchor": figure.name.replace("_", "-"), "rows": rows})
    snap = ecosystem.get("snapshot", {}).get("frameworks", {})
    snapshot_figures, unknown = [], 0
    for figure in (f for f in FIGURES.values() if f.kind == "snapshot"):
        rows = []
        for name, fw in FRAMEWORKS.items():
            entry = snap.get(name, {}).get(figure.name)
            if entry is None:
                continue
            value = entry.get("value")
            if value is None:
                unknown += 1
                text = "not retrieved"  # the fetch error stays in the snapshot, for maintainers
            else:
                text = fmt_value(figure.name, value) + (f" ({entry['note']})" if entry.get("note") else "")
            rows.append({"label": fw.label, "value": text.replace("|", "/"), "source": entry["source"],
                         "source_host": urlparse(entry["source"]).netloc, "retrieved": entry["retrieved"]})
        if rows:
            snapshot_figures.append({"title": figure.title, "anchor": figure.name.replace("_", "-"), "rows": rows})
    return {"live_machines": machines, "live_figures": live_figures, "snapshot_figures": snapshot_figures,
            "snapshot_range": _dated_range(ecosystem.get("snapshot")), "unknown_count": unknown}


def _dated_range(snap: dict | None) -> tuple | None:
    oldest, newest = snapshot.oldest_and_newest(snap) if snap else (None, None)
    return (oldest.isoformat(), newest.isoformat()) if oldest else None


def _largest(doc: dict, top: int = 5) -> list[dict]:
    out = []
    for name, fw in FRAMEWORKS.items():
        dists = doc.get("frameworks", {}).get(name, {}).get("distributions") or {}
        biggest = sorted(dists.items(), key=lambda kv: -kv[1])[:top]
        if biggest:
            out.append({"label": fw.label, "text": ", ".join(f"{d} {s:,.0f}" for d, s in biggest)})
    return out


def guide_context(scenarios: dict, evaluated: list[dict], claims_doc: dict, verdicts: pd.DataFrame) -> dict:
    titles = {s["id"]: s["title"].strip("[]") for s in claims_doc["sources"]}
    by_claim = {cid: g for cid, g in verdicts.groupby("claim")} if not verdicts.empty else {}
    frameworks = [{"name": n, "label": f.label} for n, f in FRAMEWORKS.items()]
    shown = []
    for s in evaluated:
        machines = []
        for m in s["machines"]:
            criteria = []
            for crit, c in zip(s["criteria"], m["criteria"], strict=True):
                cells = {}
                for f in FRAMEWORKS:
                    if c["not_measurable"]:
                        cells[f] = "not measurable here"
                    elif f in c["values"]:
                        v = c["values"][f]
                        name = crit.get("metric") or crit.get("ecosystem") or crit.get("ergonomics")
                        cells[f] = (md_link(fmt_value(name, v["value"]), v["evidence"])
                                    + Markup(" · ") + md(f"{c['scores'][f]:.2f}"))
                    else:
                        cells[f] = "0 (none)" if c["required"] else "–"
                criteria.append({**c, "cells": cells})
            machines.append({**m, "criteria": criteria})
        related = []
        for cid in s.get("claims", []):
            group = by_claim.get(cid)
            summary = ", ".join(sorted(set(group["verdict"]))) if group is not None else "no verdict"
            related.append({"id": cid, "verdicts": summary})
        shown.append({**s, "machines": machines, "related": related,
                      "sources": [{"id": sid, "title": titles.get(sid, sid)} for sid in s["sources"]]})
    data = {
        "frameworks": frameworks,
        "machines": sorted({m["machine_id"] for s in evaluated for m in s["machines"]}),
        "scenarios": [{"id": s["id"], "title": s["title"], "machines": [
            {"machine_id": m["machine_id"], "criteria": [
                {"label": c["label"], "weight": c["weight"], "required": c["required"],
                 "not_measurable": c["not_measurable"], "scores": c["scores"]} for c in m["criteria"]]}
            for m in s["machines"]]} for s in evaluated],
    }
    return {"scenarios": shown, "frameworks": frameworks, "data_json": json_for_script(data)}


def write_evidence_pages(data_dir: Path, docs_dir: Path, tables: dict, workloads: dict, emit) -> dict:
    """Render every evidence page through ``emit(rel, template, **context)``, the ledger and
    scenarios checked against ``workloads``; returns the claims tally, which the home page shows too."""
    data_dir = Path(data_dir)
    references = bounds.load_references(data_dir)
    doc = claims_mod.load(data_dir / "claims.yaml", workloads, references=references)
    ecosystem = load_ecosystem(data_dir)
    # pages render the verdicts rule's table; they judge nothing themselves
    verdicts_path = data_dir / "tables" / "verdicts.csv"
    if not verdicts_path.is_file():
        raise FileNotFoundError(f"{verdicts_path}: missing; run `python -m pipeline verdicts` first")
    verdicts = pd.read_csv(verdicts_path)
    claims = claims_context(doc, verdicts, references)
    emit("claims.md", "claims.md.j2", **claims)
    emit("ecosystem.md", "ecosystem.md.j2", **ecosystem_context(ecosystem))
    emit("ergonomics.md", "ergonomics.md.j2", **ergonomics.page_context(tables["ergonomics"], workloads),
         scale_out=scale_out.page_context(tables["scale_out"], workloads))
    scenarios = guide.load(data_dir / "scenarios.yaml", workloads, sources={s["id"] for s in doc["sources"]},
                           claim_ids={c["id"] for c in doc["claims"]})
    # the guide rule's scores; pages score nothing themselves
    emit("guide.md", "guide.md.j2", **guide_context(scenarios, tables["guide"], doc, verdicts))
    emit("faq.md", "faq.md.j2", **faq.context(tables, claims["counts"], sorted(ecosystem["live"])))
    emit("concepts.md", "concepts.md.j2", **concepts.context(workloads, REPO_ROOT))
    emit("notebook.md", "notebook.md.j2", **notebook.context(Path(docs_dir) / "notebooks" / "redraw_a_chart.ipynb",
                                                             Path(docs_dir)))
    return claims["counts"]
