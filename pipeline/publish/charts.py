"""Altair charts, compiled by vl-convert to Vega JSON (which the page draws with Vega
alone: no Vega-Lite compiler or vega-embed in the reader's browser) and rendered to
SVG (for readers without JavaScript and for print)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import altair as alt
import pandas as pd
import vl_convert as vlc

from pipeline.core import catalogue
from pipeline.core.frameworks import FRAMEWORKS

#: the Vega-Lite version Altair writes, as vl-convert names it ("6.4")
VL_VERSION = ".".join(alt.VEGALITE_VERSION.split(".")[:2])
#: significant digits kept per drawn sample: a dot is placed to well under a pixel
SAMPLE_DIGITS = 4
COLORS = {"torch": "#ee4c2c", "tensorflow": "#ff8f00", "jax": "#2a56c6", "keras": "#7b1fa2"}


def _title(metric: str, unit: str) -> str:
    m = catalogue.TRAINING[metric]
    return f"{m.title} ({unit}, {m.better} is better)"


#: charted sampled metrics and their titles ({unit}: what the workload counts per second)
SAMPLED = {
    "train_throughput": _title("train_throughput", "{unit}"),
    "train_throughput_bf16": _title("train_throughput_bf16", "{unit}"),
    "inference_throughput": _title("inference_throughput", "samples/s"),
}
WIDTH = 560
#: what each kind of chart draws, said under it (the key is the chart's metric)
MARKS = {
    **dict.fromkeys(SAMPLED, "Dots: every timed sample (log scale); black tick: the median; black bar: its 95% "
                             "confidence interval."),
    "time_to_first_step": "Bar: the median over the processes that started cold; dots: each process.",
    "cases_throughput": "Dot: the median per cell (its shape gives the mode); bar: its 95% confidence interval.",
    "cases_latency": "Dot: the median request time (its shape gives the mode); bar: its 95% confidence interval; "
                     "tick: the 99th percentile.",
    "medians": "Each point: one figure both machines measured. Dashed line: equal on both; shaded band: the "
               "typical 95% interval of their ratio, inside which a point is within the noise of these runs.",
}


def _color(drawn: pd.Series) -> alt.Color:
    """Hue per framework; the legend lists only the frameworks the chart draws."""
    present = set(drawn.dropna())
    names = [name for name in COLORS if FRAMEWORKS[name].label in present]
    return alt.Color(
        "framework_label:N",
        title="Framework",
        scale=alt.Scale(domain=[FRAMEWORKS[n].label for n in names], range=[COLORS[n] for n in names]),
    )


def spread_chart(cells: pd.DataFrame, samples: pd.DataFrame, metric: str, unit: str = "samples/s") -> alt.LayerChart:
    """Every raw sample as a dot, the median as a tick, its 95% interval as a bar."""
    order = list(cells.sort_values("order")["cell"])
    summary = cells[["framework", "mode", "cell", "framework_label",
                     f"{metric}.median", f"{metric}.ci_low", f"{metric}.ci_high"]].rename(
        columns={f"{metric}.median": "median", f"{metric}.ci_low": "ci_low", f"{metric}.ci_high": "ci_high"}
    )
    summary["i"] = range(len(summary))
    # a sample row is its cell's number and its value; the labels are looked up from
    # the summary rows, so the inline spec does not repeat them per sample
    raw = samples[samples["metric"] == metric].merge(summary[["framework", "mode", "i"]], on=["framework", "mode"])
    raw = pd.DataFrame({"i": raw["i"], "value": [float(f"{v:.{SAMPLE_DIGITS}g}") for v in raw["value"]]})
    y = alt.Y("cell:N", sort=order, title=None)
    x_title = SAMPLED[metric].format(unit=unit)
    dots = alt.Chart(raw).transform_lookup(
        lookup="i", from_=alt.LookupData(summary, key="i", fields=["cell", "framework_label"]),
    ).mark_circle(size=28, opacity=0.35).encode(
        x=alt.X("value:Q", title=x_title, scale=alt.Scale(type="log")),
        y=y,
        color=_color(summary["framework_label"]),
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
    cells = cells[["framework", "mode", "cell", "framework_label", "time_to_first_step"]]
    y = alt.Y("cell:N", sort=order, title=None)
    bars = alt.Chart(cells).mark_bar(opacity=0.6).encode(
        x=alt.X("time_to_first_step:Q", title="Time to first step (s, trace + compile + run; lower is better)"),
        y=y,
        color=_color(cells["framework_label"]),
        tooltip=[alt.Tooltip("cell:N"), alt.Tooltip("time_to_first_step:Q", format=".3f",
                                                       title="s, median of the cold-start processes")],
    )
    per_process = samples[samples["metric"] == "time_to_first_step"].merge(
        cells[["framework", "mode", "cell"]], on=["framework", "mode"])
    dots = alt.Chart(per_process).mark_circle(size=40, color="black").encode(
        x="value:Q", y=y, tooltip=[alt.Tooltip("cell:N"), alt.Tooltip("value:Q", format=".3f", title="process s")],
    )
    return (bars + dots).properties(width=WIDTH)


def samples_unit(group: pd.DataFrame, metric: str) -> str:
    """Tokens/s for a language model, samples/s otherwise (the cells carry the unit)."""
    if "unit" in group and group["unit"].notna().any():
        return f"{group['unit'].dropna().iloc[0]}/s"
    return "samples/s"


def chart_stem(workload: str, machine_id: str, metric: str) -> str:
    return f"{workload}/{machine_id}/{metric}"


def write(chart: alt.TopLevelMixin, out_dir: Path, stem: str) -> None:
    """``<stem>.json``, the Vega spec the page draws, and ``<stem>.svg``, both offline."""
    base = Path(out_dir) / stem
    base.parent.mkdir(parents=True, exist_ok=True)
    spec = chart.to_dict()
    vega = vlc.vegalite_to_vega(spec, vl_version=VL_VERSION)
    # allow_nan=False: a browser's JSON parser refuses NaN, which would leave the chart blank
    base.with_suffix(".json").write_text(json.dumps(vega, separators=(",", ":"), allow_nan=False) + "\n")
    base.with_suffix(".svg").write_text(vlc.vegalite_to_svg(spec, vl_version=VL_VERSION))


def cases_chart(cases: pd.DataFrame, latency: bool) -> alt.LayerChart:
    """Operations: per case, each cell's median (dot) and 95% interval (bar); for latency
    cases, per-request time with the p99 as a tick."""
    order = list(cases.sort_values("order")["cell"].drop_duplicates())
    case_order = list(cases["case"].drop_duplicates())
    metric = "time" if latency else "throughput"
    # latency in ms, as the tables give it; throughput with SI prefixes (GFLOP/s, not 1e+12)
    unit = "ms per request" if latency else cases["throughput.unit"].dropna().iloc[0]
    # only the columns drawn: the others hold NaN, which JSON (and the page's parser) refuses
    data = cases.rename(columns={f"{metric}.median": "median", f"{metric}.ci_low": "ci_low",
                                 f"{metric}.ci_high": "ci_high", f"{metric}.p99": "p99"})[
        ["case", "cell", "framework_label", "mode_label", "order", "median", "ci_low", "ci_high", "p99"]].copy()
    if latency:
        for column in ("median", "ci_low", "ci_high", "p99"):
            data[column] = data[column] * 1000.0
    base = alt.Chart(data).encode(
        y=alt.Y("case:N", sort=case_order, title=None),
        yOffset=alt.YOffset("cell:N", sort=order),
        color=_color(data["framework_label"]),
    )
    what, better = ("Latency per request", "lower") if latency else ("Throughput", "higher")
    title = f"{what} ({unit}, {better} is better)"
    # two modes of one framework share its hue: the mark's shape tells them apart
    dots = base.mark_point(size=60, filled=True, opacity=1).encode(
        x=alt.X("median:Q", title=title, scale=alt.Scale(type="log"),
                axis=alt.Axis(format="~s") if not latency else alt.Axis()),
        shape=alt.Shape("mode_label:N", title="Mode"),
        tooltip=[alt.Tooltip("case:N"), alt.Tooltip("cell:N"), alt.Tooltip("median:Q", format=",.4g"),
                 alt.Tooltip("ci_low:Q", format=",.4g", title="95% CI low"),
                 alt.Tooltip("ci_high:Q", format=",.4g", title="95% CI high")]
        + ([alt.Tooltip("p99:Q", format=",.4g")] if latency else []),
    )
    interval = base.mark_rule(strokeWidth=2).encode(x="ci_low:Q", x2="ci_high:Q")
    layers = dots + interval
    if latency:
        layers += base.mark_tick(thickness=2, size=10).encode(x="p99:Q")
    height = 18 * len(order) * len(case_order)
    return layers.properties(width=WIDTH, height=max(120, min(height, 1400)))


def draw_cases(cases: pd.DataFrame, out_dir: Path) -> list[str]:
    written = []
    if cases.empty or "throughput.median" not in cases:
        return written
    ok = cases[(cases["status"] == "ok") & cases["throughput.median"].notna()]
    for (workload, machine), group in ok.groupby(["workload", "machine_id"]):
        for latency, name in ((False, "cases_throughput"), (True, "cases_latency")):
            mine = group[group["latency"].fillna(False).astype(bool) == latency] if "latency" in group else group
            if not mine.empty:
                stem = chart_stem(workload, machine, name)
                write(cases_chart(mine, latency), out_dir, stem)
                written.append(stem)
    return written


#: where the machine-pair charts go (not an identifier, so no workload can take the name)
PAIRS = "machine-pairs"
JUDGEMENT_MARKS = {"a real difference": ("#c62828", "triangle-up"),
                   "within the noise of these runs": ("#607d8b", "circle")}


def pair_stem(machine_a: str, machine_b: str) -> str:
    return chart_stem(PAIRS, f"{machine_a}--{machine_b}", "medians")


def machines_chart(rows: pd.DataFrame, machine_a: str, machine_b: str) -> alt.LayerChart:
    """One machine's medians against the other's (log-log), every shared figure a point
    (shape and colour: its judgement), the diagonal where both are equal, and the band
    of the typical 95% interval of the ratio around it."""
    judged = rows[rows["ratio_low"].notna()].copy()
    low = float((judged["ratio_low"] / judged["ratio"]).median())
    high = float((judged["ratio_high"] / judged["ratio"]).median())
    ends = [float(min(judged["median_a"].min(), judged["median_b"].min())) / 2,
            float(max(judged["median_a"].max(), judged["median_b"].max())) * 2]
    line = pd.DataFrame({"x": ends, "y": ends, "low": [e * low for e in ends], "high": [e * high for e in ends]})
    scale = alt.Scale(type="log")
    band = alt.Chart(line).mark_area(opacity=0.18, color="#607d8b").encode(
        x=alt.X("x:Q", scale=scale, title=f"Median on {machine_a} (log scale)", axis=alt.Axis(format="~s")),
        y=alt.Y("low:Q", scale=scale, title=f"Median on {machine_b} (log scale)", axis=alt.Axis(format="~s")),
        y2="high:Q")
    diagonal = alt.Chart(line).mark_line(color="#37474f", strokeDash=[4, 3]).encode(x="x:Q", y="y:Q")
    domain = list(JUDGEMENT_MARKS)
    points = alt.Chart(judged[["workload", "cell", "figure", "unit", "median_a", "median_b", "ratio", "ratio_low",
                               "ratio_high", "judgement"]]).mark_point(size=55, filled=True, opacity=0.85).encode(
        x="median_a:Q", y="median_b:Q",
        # the legend above the plot: beside it, it would squeeze the plot on a phone
        color=alt.Color("judgement:N", title="The ratio is", legend=alt.Legend(orient="top"), scale=alt.Scale(
            domain=domain, range=[JUDGEMENT_MARKS[j][0] for j in domain])),
        shape=alt.Shape("judgement:N", title="The ratio is", legend=alt.Legend(orient="top"), scale=alt.Scale(
            domain=domain, range=[JUDGEMENT_MARKS[j][1] for j in domain])),
        tooltip=[alt.Tooltip("workload:N"), alt.Tooltip("cell:N"), alt.Tooltip("figure:N"), alt.Tooltip("unit:N"),
                 alt.Tooltip("median_a:Q", format=",.4g", title=machine_a),
                 alt.Tooltip("median_b:Q", format=",.4g", title=machine_b),
                 alt.Tooltip("ratio:Q", format=".2f", title="ratio"),
                 alt.Tooltip("ratio_low:Q", format=".2f", title="95% low"),
                 alt.Tooltip("ratio_high:Q", format=".2f", title="95% high"),
                 alt.Tooltip("judgement:N")])
    return (band + diagonal + points).properties(width=WIDTH, height=WIDTH)


def draw_pairs(pairs: pd.DataFrame, out_dir: Path) -> list[str]:
    written = []
    if pairs is None or pairs.empty or "ratio_low" not in pairs:
        return written
    for (a, b), rows in pairs.groupby(["machine_a", "machine_b"]):
        if rows["ratio_low"].notna().any():
            write(machines_chart(rows, a, b), out_dir, pair_stem(a, b))
            written.append(pair_stem(a, b))
    return written


def draw_all(tables: dict, out_dir: Path) -> list[str]:
    """One set of charts per workload and machine, from the ``ok`` cells only."""
    cells, samples = tables["cells"], tables["samples"]
    written = []
    # charts of machines or workloads that no longer have results must not linger
    for stale in Path(out_dir).glob("*/"):
        shutil.rmtree(stale)
    if cells.empty:
        return written
    written += draw_cases(tables["cases"], out_dir)
    written += draw_pairs(tables.get("machine_pairs"), out_dir)
    ok = cells[cells["status"] == "ok"]
    for (workload, machine), group in ok.groupby(["workload", "machine_id"]):
        mine = samples[(samples["workload"] == workload) & (samples["machine_id"] == machine)]
        for metric in SAMPLED:
            if f"{metric}.median" in group and group[f"{metric}.median"].notna().any():
                stem = chart_stem(workload, machine, metric)
                unit = samples_unit(group, metric)
                write(spread_chart(group.dropna(subset=[f"{metric}.median"]), mine, metric, unit), out_dir, stem)
                written.append(stem)
        if "time_to_first_step" in group and group["time_to_first_step"].notna().any():
            stem = chart_stem(workload, machine, "time_to_first_step")
            write(first_step_chart(group.dropna(subset=["time_to_first_step"]), mine), out_dir, stem)
            written.append(stem)
    return written
