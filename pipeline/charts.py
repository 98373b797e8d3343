"""Altair charts, written as Vega-Lite JSON (for the interactive page) and SVG
(for readers without JavaScript and for print)."""

from __future__ import annotations

import shutil
from pathlib import Path

import altair as alt
import pandas as pd

from .frameworks import FRAMEWORKS

COLORS = {"torch": "#ee4c2c", "tensorflow": "#ff8f00", "jax": "#2a56c6"}
SAMPLED = {
    "train_throughput": "Training throughput (samples/s, higher is better)",
    "inference_throughput": "Inference throughput (samples/s, higher is better)",
}
WIDTH = 560


def _color() -> alt.Color:
    labels = [FRAMEWORKS[name].label for name in COLORS]
    return alt.Color(
        "framework_label:N",
        title="Framework",
        scale=alt.Scale(domain=labels, range=list(COLORS.values())),
    )


def spread_chart(cells: pd.DataFrame, samples: pd.DataFrame, metric: str) -> alt.LayerChart:
    """Every raw sample as a dot, the median as a tick, its 95% interval as a bar."""
    order = list(cells.sort_values("order")["cell"])
    summary = cells[["framework", "mode", "cell", "framework_label",
                     f"{metric}.median", f"{metric}.ci_low", f"{metric}.ci_high"]].rename(
        columns={f"{metric}.median": "median", f"{metric}.ci_low": "ci_low", f"{metric}.ci_high": "ci_high"}
    )
    raw = samples[samples["metric"] == metric].merge(summary, on=["framework", "mode"])
    y = alt.Y("cell:N", sort=order, title=None)
    x_title = SAMPLED[metric]
    dots = alt.Chart(raw).mark_circle(size=28, opacity=0.35).encode(
        x=alt.X("value:Q", title=x_title, scale=alt.Scale(type="log")),
        y=y,
        color=_color(),
        tooltip=[alt.Tooltip("cell:N"), alt.Tooltip("value:Q", format=",.0f", title="sample")],
    )
    interval = alt.Chart(summary).mark_rule(strokeWidth=3, color="black").encode(
        x="ci_low:Q", x2="ci_high:Q", y=y,
    )
    median = alt.Chart(summary).mark_tick(thickness=3, size=22, color="black").encode(
        x="median:Q",
        y=y,
        tooltip=[
            alt.Tooltip("cell:N"),
            alt.Tooltip("median:Q", format=",.0f"),
            alt.Tooltip("ci_low:Q", format=",.0f", title="95% CI low"),
            alt.Tooltip("ci_high:Q", format=",.0f", title="95% CI high"),
        ],
    )
    return (dots + interval + median).properties(width=WIDTH)


def first_step_chart(cells: pd.DataFrame, samples: pd.DataFrame) -> alt.LayerChart:
    """Median time to first step as a bar, each process's value as a dot."""
    order = list(cells.sort_values("order")["cell"])
    y = alt.Y("cell:N", sort=order, title=None)
    bars = alt.Chart(cells).mark_bar(opacity=0.6).encode(
        x=alt.X("time_to_first_step:Q", title="Time to first step (s, trace + compile + run; lower is better)"),
        y=y,
        color=_color(),
        tooltip=[alt.Tooltip("cell:N"), alt.Tooltip("time_to_first_step:Q", format=".3f", title="median s")],
    )
    per_process = samples[samples["metric"] == "time_to_first_step"].merge(
        cells[["framework", "mode", "cell"]], on=["framework", "mode"])
    dots = alt.Chart(per_process).mark_circle(size=40, color="black").encode(
        x="value:Q", y=y, tooltip=[alt.Tooltip("cell:N"), alt.Tooltip("value:Q", format=".3f", title="process s")],
    )
    return (bars + dots).properties(width=WIDTH)


def chart_stem(workload: str, machine_id: str, metric: str) -> str:
    return f"{workload}/{machine_id}/{metric}"


def write(chart: alt.TopLevelMixin, out_dir: Path, stem: str) -> None:
    base = Path(out_dir) / stem
    base.parent.mkdir(parents=True, exist_ok=True)
    base.with_suffix(".json").write_text(chart.to_json(indent=None) + "\n")
    chart.save(str(base.with_suffix(".svg")))  # rendered offline by vl-convert


def draw_all(cells: pd.DataFrame, samples: pd.DataFrame, out_dir: Path) -> list[str]:
    """One set of charts per workload and machine, from the ``ok`` cells only."""
    written = []
    # charts of machines or workloads that no longer have results must not linger
    for stale in Path(out_dir).glob("*/"):
        shutil.rmtree(stale)
    if cells.empty:
        return written
    ok = cells[cells["status"] == "ok"]
    for (workload, machine), group in ok.groupby(["workload", "machine_id"]):
        mine = samples[(samples["workload"] == workload) & (samples["machine_id"] == machine)]
        for metric in SAMPLED:
            if f"{metric}.median" in group and group[f"{metric}.median"].notna().any():
                stem = chart_stem(workload, machine, metric)
                write(spread_chart(group.dropna(subset=[f"{metric}.median"]), mine, metric), out_dir, stem)
                written.append(stem)
        if "time_to_first_step" in group and group["time_to_first_step"].notna().any():
            stem = chart_stem(workload, machine, "time_to_first_step")
            write(first_step_chart(group.dropna(subset=["time_to_first_step"]), mine), out_dir, stem)
            written.append(stem)
    return written
