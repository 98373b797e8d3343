"""Write the generated Markdown pages from the tables, charts and result files.

Generated here: ``docs/index.md``, ``docs/workloads/index.md``, one
``docs/workloads/<name>.md`` per workload, ``docs/environment.md``, and the fragments
the hand-written pages include (``docs/generated/``: knobs, timer check, variance,
metrics, batches, tolerances). The evidence pages (claims, ecosystem, ergonomics,
guide, FAQ, concepts, notebook) are written by :mod:`pipeline.publish.evidence_pages`
through the same ``emit``. Hand-written pages (methodology, contributing) are left
alone. Code tabs include the real
implementation files through ``pymdownx.snippets``, so the code a reader sees is
the code that ran.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import jinja2
import pandas as pd
from markupsafe import Markup

from pipeline.contract import IMPL_FILES, NEUTRAL_FILE
from pipeline.core import catalogue, facts, quiet, results
from pipeline.core.frameworks import FRAMEWORKS
from pipeline.publish import contributing, escaping
from pipeline.publish.charts import MARKS, SAMPLED, chart_stem, pair_stem
from pipeline.publish.evidence_pages import write_evidence_pages
from pipeline.publish.formats import fmt, fmt_bytes, fmt_pct, fmt_si, fmt_signed, fmt_span
from pipeline.publish.tables import read_tables

TEMPLATES = Path(__file__).parent / "templates"
CHARTS_URL = "assets/charts"
METRIC_TITLES = {
    **{k: v.format(unit="per second") for k, v in SAMPLED.items()},
    "time_to_first_step": f"{catalogue.TRAINING['time_to_first_step'].title} (s)",
    "cases_throughput": "Throughput per case",
    "cases_latency": "Latency per request",
}
#: tables copied into the site (docs/data/), each with what a row is
DOWNLOADS = {
    "cells.csv": "one row per cell: medians, intervals, spread, memory, versions",
    "cases.csv": "one row per cell and case of the operations workloads",
    "comparisons.csv": "the worded comparisons, with their ratio intervals and tests",
    "break_even.csv": "compile cost and break-even per compiled cell",
    "ceilings.csv": "each machine's measured FLOP/s ceiling",
    "facts.csv": "what each workload built: sizes, baselines",
    "verdicts.csv": "every claim's verdict per machine",
    "ergonomics.csv": "lines and distinct framework APIs per implementation",
    "reproduction.csv": "per machine, its current medians against each cell's measurement before them",
    "reproduced_by.csv": "per current figure, the earlier runs whose medians fall inside its repeat interval",
    "noise.csv": "per machine and workload, the pooled between-process variance the repeat intervals use",
    "variance.csv": "per machine and workload, the variance of the figures split into samples, processes and runs",
    "estimators.csv": "per machine, how closely repeat runs reproduced each candidate estimator of a figure",
    "instruments.csv": "every version of the measuring code, what it changed, and the cells it measured",
    "machine_pairs.csv": "per pair of machines, every shared figure's ratio with its 95% interval and judgement",
}
#: cases.csv columns that are not an operation's own extra facts
CASE_COLUMNS = {"machine_id", "workload", "framework", "mode", "framework_label", "mode_label", "cell", "order",
                "case", "status", "reason", "run_id", "work", "unit", "latency", "precision", "repeat", "first_call",
                "first_call_warm_cache", "compilations", "recompilations", "error", "graph_breaks", "retracings",
                "graph_breaks_recorded", "graph_break_reasons", "compiled_note"}


def raw_result_url(row: dict, depth: int) -> str:
    """Where the site serves a cell's stored result file (site_hooks.on_files puts it there)."""
    name = results.stem(row["framework"], row["mode"], row["profile"])
    return f"{'../' * depth}data/results/{row['machine_id']}/{row['workload']}/{name}.json"


def chart_summary(title: str, rows: list[dict], column: str, unit: str = "", scale: float = 1.0) -> str:
    """The chart's text alternative: its title and every cell's median, as drawn."""
    drawn = [r for r in rows if r.get(column) is not None and not (isinstance(r[column], float)
                                                                   and math.isnan(r[column]))]
    parts = [f"{r.get('case') + ': ' if r.get('case') else ''}{r['cell']} {fmt_si(r[column] * scale)}{unit}"
             for r in drawn]
    return f"{title}. Medians: {'; '.join(parts)}." if parts else title


def chart_html(docs_dir: Path, stem: str, depth: int, alt_text: str, caption: str = "",
               inline: bool = True) -> Markup | None:
    """A div the page script fills from the Vega spec: inline, or (``inline`` False: the
    charts of a page's second and later machines, so a page weighs the same however many
    machines are stored) fetched from ``data-src`` when the chart scrolls into view. The SVG
    drawn at build time is for readers without JavaScript (in ``noscript``, so nobody else
    downloads it) and for a spec that cannot render or be fetched (from ``file://``; the
    script inserts it). The stem names a machine, so it is escaped for the attribute and
    the path it sits in."""
    spec_path = docs_dir / CHARTS_URL / f"{stem}.json"
    if not spec_path.is_file():
        return None
    svg = escaping.url(f"{'../' * depth}{CHARTS_URL}/{stem}.svg")
    note = f'<p class="chart-caption">{escaping.attr(caption)}</p>\n' if caption else ""
    if inline:
        # allow_nan=False: a NaN in a spec would break the page's JSON parser; fail here instead
        spec = escaping.json_for_script(json.loads(spec_path.read_text()))
        source = f'<script type="application/json" class="vega-spec">{spec}</script>\n'
    else:
        source = ""
    spec_url = escaping.url(f"{'../' * depth}{CHARTS_URL}/{stem}.json")
    src = "" if inline else f' data-src="{spec_url}"'
    return Markup(
        f'<div class="vega-chart" data-chart="{escaping.attr(stem)}" data-fallback="{svg}"{src} '
        f'data-alt="{escaping.attr(alt_text)}" role="img" aria-label="{escaping.attr(alt_text)}">\n'
        f'<noscript><img class="vega-fallback" src="{svg}" alt="{escaping.attr(alt_text)}"></noscript>\n'
        f"{source}</div>\n{note}"
    )


def _env() -> jinja2.Environment:
    env = escaping.environment(TEMPLATES)
    env.filters["fmt"] = fmt
    env.filters["fmt_bytes"] = fmt_bytes
    env.filters["pct"] = fmt_pct
    env.filters["fmt_signed"] = fmt_signed
    env.filters["fmt_si"] = fmt_si
    env.filters["fmt_span"] = fmt_span
    return env


def _rows(frame: pd.DataFrame) -> list[dict]:
    """Records with NaN turned into None, so templates test ``is none`` only."""
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
            for r in frame.to_dict("records")]


def case_sections(workload, cases: pd.DataFrame, machine_id: str) -> list[dict]:
    """Per case: every cell's row, and the extra facts (export size...) it recorded."""
    if cases.empty:
        return []
    mine = cases[(cases["workload"] == workload.name) & (cases["machine_id"] == machine_id)]
    out = []
    for case in mine["case"].drop_duplicates():
        rows = mine[mine["case"] == case].sort_values("order")
        extras = [c for c in rows.columns if c not in CASE_COLUMNS and "." not in c and rows[c].notna().any()]
        out.append({"name": case, "rows": _rows(rows), "extras": extras,
                    "latency": bool(rows["latency"].fillna(False).astype(bool).any()) if "latency" in rows else False,
                    "unit": next((u for u in rows.get("throughput.unit", []) if isinstance(u, str)), "")})
    return out


def ceiling_for(ceilings: pd.DataFrame, machine_id: str) -> dict:
    if ceilings.empty:
        return {}
    mine = ceilings[ceilings["machine_id"] == machine_id]
    return {r["precision"]: r for r in mine.to_dict("records")}


def _of(table: pd.DataFrame, workload: str, machine_id: str) -> list[dict]:
    if table.empty:
        return []
    return _rows(table[(table["workload"] == workload) & (table["machine_id"] == machine_id)])


def workload_context(workload, tables: dict, docs_dir: Path) -> dict:
    cells = tables["cells"]
    mine = cells[cells["workload"] == workload.name] if not cells.empty else cells
    sections = []
    for machine_id, group in (mine.groupby("machine_id") if not mine.empty else []):
        charts = []
        rows = _rows(group.sort_values("order"))
        for r in rows:
            r["raw"] = raw_result_url(r, 1)
        case_rows = [] if tables["cases"].empty else _rows(tables["cases"][
            (tables["cases"]["workload"] == workload.name) & (tables["cases"]["machine_id"] == machine_id)
            & (tables["cases"]["status"] == "ok")])
        where = next((m for m in tables["machines"] if m["id"] == machine_id), {})
        stamp = (f"Measured on {machine_id}, profile {', '.join(sorted(group['profile'].unique()))}, "
                 f"last on {str(where.get('last', ''))[:10]}. ")
        for metric, title in METRIC_TITLES.items():
            if metric.startswith("cases_"):
                latency = metric == "cases_latency"
                mine = [r for r in case_rows if bool(r.get("latency")) == latency]
                alt_text = (chart_summary(title, mine, "time.median", " ms", 1000.0) if latency
                            else chart_summary(title, mine, "throughput.median"))
            else:
                alt_text = chart_summary(title, rows, metric if metric == "time_to_first_step" else f"{metric}.median")
            html = chart_html(docs_dir, chart_stem(workload.name, machine_id, metric), 1, alt_text,
                              stamp + MARKS[metric], inline=not sections)
            if html:
                charts.append({"title": title, "html": html})
        training = workload.is_training
        sections.append({
            "machine_id": machine_id,
            "profiles": sorted(group["profile"].unique()),
            "rows": rows,
            "charts": charts,
            "comparisons": _of(tables["comparisons"], workload.name, machine_id),
            "break_even": _of(tables["break_even"], workload.name, machine_id),
            "cases": case_sections(workload, tables["cases"], machine_id),
            "ceiling": ceiling_for(tables["ceilings"], machine_id),
            "bf16": training and "train_throughput_bf16.median" in group and bool(
                group["train_throughput_bf16.median"].notna().any()),
            "checkpoint": training and "checkpoint_size" in group and bool(group["checkpoint_size"].notna().any()),
            "facts": {r["fact"]: r["value"] for r in _of(tables["facts"], workload.name, machine_id)},
        })
    files = [("Neutral (NumPy)", NEUTRAL_FILE)] + [
        (FRAMEWORKS[f].label, IMPL_FILES[f]) for f in FRAMEWORKS if workload.implements(f)]
    return {
        "w": workload,
        "spec": workload.spec,
        "tolerance": workload.tolerance,
        "downloads": DOWNLOADS,
        # its figures from the first machine's facts: the same data gives the same baselines everywhere
        "reference": facts.fill(workload.spec["reference"], sections[0]["facts"] if sections else {})
        if "reference" in workload.spec else None,
        "sections": sections,
        # paths the snippets extension includes: a workload folder's name is an identifier
        "code_tabs": [{"label": label, "path": Markup(f"workloads/{workload.name}/{name}")} for label, name in files],
        "modes": {f.label: [f.mode_labels[m] for m in f.modes] for f in FRAMEWORKS.values()
                  if workload.implements(f.name)},
        "not_implemented": [f.label for f in FRAMEWORKS.values() if not workload.implements(f.name)],
    }


def machine_pairs(tables: dict, docs_dir: Path) -> list[dict]:
    """Per pair of machines: its summary and judged differences (``machine_differences.json``),
    its shared figures (``machine_pairs.csv``) and its chart."""
    pairs, rows = tables.get("machine_differences") or [], tables.get("machine_pairs")
    out = []
    for p in pairs:
        a, b = p["machine_a"], p["machine_b"]
        shared = rows is not None and len(rows)
        mine = _rows(rows[(rows["machine_a"] == a) & (rows["machine_b"] == b)]) if shared else []
        summary = (f"{b} against {a}: {p['figures']} shared figures, {p['real']} differing beyond the noise "
                   f"of these runs, {p['within']} within it")
        out.append({**p, "anchor": f"{a}--{b}", "rows": mine, "not_judged": p["figures"] - p["judged"] - p["apart"],
                    "chart": chart_html(docs_dir, pair_stem(a, b), 0, summary, MARKS["medians"], inline=not out)})
    return out


def write_pages(data_dir: Path, docs_dir: Path, workloads: dict) -> list[Path]:
    """Every generated page, one per workload of ``workloads`` among them; returns the files written."""
    tables = read_tables(Path(data_dir) / "tables")
    refused = tables["refused"]
    env = _env()
    machine_list = tables["machines"]
    written = []

    def emit(rel: str, template: str, **context) -> None:
        path = Path(docs_dir) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        text = env.get_template(template).render(**context)
        results.replace_file(path, text)
        written.append(path)

    # the tables the pages show, offered as they are: every figure on the site can be downloaded
    for name in DOWNLOADS:
        source = Path(data_dir) / "tables" / name
        if source.is_file():
            results.replace_file(Path(docs_dir) / "data" / name, source.read_text())
            written.append(Path(docs_dir) / "data" / name)
    for workload in workloads.values():
        emit(f"workloads/{workload.name}.md", "workload.md.j2",
             **workload_context(workload, tables, docs_dir))
    emit("workloads/index.md", "workloads_index.md.j2", workloads=list(workloads.values()))
    pairs = machine_pairs(tables, Path(docs_dir))
    emit("machines.md", "machines.md.j2", pairs=pairs)
    emit("environment.md", "environment.md.j2", machines=machine_list, refused=refused, limits=quiet.limits(),
         reproduction=tables.get("reproduction") or [])
    # fragments the hand-written Methodology page includes (docs/generated/ is not a page)
    emit("generated/knobs.md", "knobs.md.j2", machines=machine_list)
    emit("generated/timer_check.md", "timer_check.md.j2", reports=tables["timer_checks"])
    emit("generated/variance.md", "variance.md.j2", levels=_rows(tables["variance"]))
    emit("generated/estimators.md", "estimators.md.j2", rows=_rows(tables["estimators"]))
    emit("generated/instruments.md", "instruments.md.j2", rows=_rows(tables["instruments"]))
    # fragments the hand-written Contributing page includes: the contract's facts from the code that holds them
    emit("generated/metrics.md", "metrics.md.j2", **contributing.metrics_context())
    emit("generated/batches.md", "batches.md.j2", **contributing.batches_context())
    emit("generated/tolerances.md", "tolerances.md.j2", **contributing.tolerances_context())

    headline = None
    if machine_list and workloads:
        latest = max(machine_list, key=lambda m: m["last"])
        # the first training workload with a chart on the latest machine
        for first in (w for w in workloads.values() if w.is_training):
            cells = tables["cells"]
            shown = _rows(cells[(cells["workload"] == first.name) & (cells["machine_id"] == latest["id"])
                                & (cells["status"] == "ok")].sort_values("order")) if not cells.empty else []
            html = chart_html(docs_dir, chart_stem(first.name, latest["id"], "train_throughput"), 0,
                              chart_summary(METRIC_TITLES["train_throughput"], shown, "train_throughput.median"))
            if html:
                headline = {"workload": first, "machine": latest, "html": html}
                break
    tally = write_evidence_pages(Path(data_dir), Path(docs_dir), tables, workloads, emit)
    emit("index.md", "index.md.j2", machines=machine_list, workloads=list(workloads.values()),
         headline=headline, frameworks=FRAMEWORKS, refused=refused, tally=tally,
         answers=[{"id": s["id"], "title": s["title"], "machines": s["machines"]} for s in tables["guide"]],
         differing=[{**a, "machine_a": p["machine_a"], "machine_b": p["machine_b"], "anchor": p["anchor"]}
                    for p in pairs for a in p["answers"]],
         accelerated=any(m["hardware"].get("gpus") or m["hardware"].get("tpu") for m in machine_list))
    return written


def missing_nav_entries(workloads: dict, mkdocs_yml: Path = Path("mkdocs.yml")) -> list[str]:
    """Workload pages that mkdocs.yml's nav does not list (readers could not find them)."""
    # MkDocs' own loader: the file uses its !ENV tag
    from mkdocs.utils.yaml import yaml_load

    nav = yaml_load(Path(mkdocs_yml).read_text()).get("nav", [])
    listed = set()

    def walk(node) -> None:
        if isinstance(node, str):
            listed.add(node)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)

    walk(nav)
    return [f"workloads/{name}.md" for name in workloads if f"workloads/{name}.md" not in listed]
