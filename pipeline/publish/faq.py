"""The FAQ: the questions readers ask, answered from the tables of each machine.

Every answer is computed from stored results, so it changes when they do, and
links to the page with the full numbers. A question the data cannot answer on a
machine says so.
"""

from __future__ import annotations

import pandas as pd
from markupsafe import Markup

from pipeline.core import catalogue
from pipeline.publish.escaping import code, md, md_link
from pipeline.publish.formats import fmt_duration

#: the unit a request's latency is shown in, on this page as everywhere
MS = catalogue.CASE["time"].shown_in

TRAINING = ("cnn_cifar", "transformer_lm", "mlp_digits")


DEVICE_WORDS = {"cpu": "the CPU only", "cuda": "an NVIDIA GPU", "tpu": "a TPU"}


def _where(machine: str, workload: str) -> Markup:
    """``machine``, linked workload: the head of an answer line, every value escaped."""
    return code(machine) + Markup(", ") + md_link(workload, f"workloads/{workload}.md#on-{machine}")


def _ok(cells: pd.DataFrame) -> pd.DataFrame:
    return cells[cells["status"] == "ok"] if not cells.empty else cells


def fastest_training(cells: pd.DataFrame) -> list[Markup]:
    out = []
    for (machine, workload), group in _ok(cells).groupby(["machine_id", "workload"]):
        if "train_throughput.median" not in group or group["train_throughput.median"].isna().all():
            continue
        best = group.loc[group.groupby("framework")["train_throughput.median"].idxmax()]
        best = best.sort_values("train_throughput.median", ascending=False)
        top = best.iloc[0]
        others = ", ".join(f"{r['cell']} {top['train_throughput.median'] / r['train_throughput.median']:.2f}x slower"
                           for r in best.iloc[1:].to_dict("records"))
        out.append(_where(machine, workload) + Markup(": **") + md(top["cell"]) + Markup("** ") + md(
            f"({top['train_throughput.median']:,.0f} {top['unit']}/s); best mode of the others: {others}."))
    return out


def compile_payoff(cells: pd.DataFrame) -> list[Markup]:
    out = []
    ok = _ok(cells)
    for (machine, workload), group in ok.groupby(["machine_id", "workload"]):
        if "train_throughput.median" not in group or group["train_throughput.median"].isna().all():
            continue
        by = {(r["framework"], r["mode"]): r for r in group.to_dict("records")}
        parts = []
        for framework, eager, compiled in (("torch", "eager", "compile"), ("tensorflow", "eager", "function"),
                                           ("tensorflow", "eager", "xla")):
            if (framework, eager) in by and (framework, compiled) in by:
                e, c = by[(framework, eager)], by[(framework, compiled)]
                ratio = c["train_throughput.median"] / e["train_throughput.median"]
                parts.append(f"{c['cell']} {ratio:.2f}x eager's throughput, first step "
                             f"{fmt_duration(c['time_to_first_step'])} vs {fmt_duration(e['time_to_first_step'])}")
        if parts:
            out.append(_where(machine, workload) + Markup(": ") + md("; ".join(parts) + "."))
    return out


def serving(cases: pd.DataFrame) -> list[Markup]:
    out = []
    if cases.empty:
        return out
    mine = cases[(cases["workload"] == "inference_latency") & (cases["status"] == "ok")
                 & cases["case"].isin(["cnn_b1", "lm_b1", "cnn_litert_b1", "cnn_export_b1"])]
    for machine, group in mine.groupby("machine_id"):
        parts = []
        for case, label in (("cnn_b1", "CNN"), ("lm_b1", "language model")):
            rows = group[group["case"] == case].sort_values("time.median")
            if not rows.empty:
                fastest, slowest = rows.iloc[0], rows.iloc[-1]
                parts.append(f"{label}: fastest {fastest['cell']} {fmt_duration(fastest['time.median'], MS)}, "
                             f"slowest {slowest['cell']} {fmt_duration(slowest['time.median'], MS)} (p50)")
        lite = group[group["case"] == "cnn_litert_b1"]
        if not lite.empty:
            parts.append(f"the CNN converted to LiteRT: {fmt_duration(lite.iloc[0]['time.median'], MS)}")
        if parts:
            out.append(code(machine) + Markup(" (") + md_link("numbers", f"workloads/inference_latency.md#on-{machine}")
                       + Markup("): ") + md("; ".join(parts) + "."))
    return out


def bf16(cells: pd.DataFrame) -> list[Markup]:
    out = []
    for machine, group in cells.groupby("machine_id") if not cells.empty else []:
        if "train_throughput_bf16.median" not in group or group["train_throughput_bf16.median"].isna().all():
            out.append(code(machine) + md(": not measured: bf16 is measured only where the device computes it "
                                          "natively."))
            continue
        rows = group.dropna(subset=["train_throughput_bf16.median"])
        parts = [f"{r['workload']} {r['cell']} {r['train_throughput_bf16.median'] / r['train_throughput.median']:.2f}x"
                 for r in rows.to_dict("records")]
        out.append(code(machine) + md(": bf16 throughput relative to fp32: " + ", ".join(parts) + "."))
    return out


def hardware(cells: pd.DataFrame) -> list[Markup]:
    out = []
    for machine, group in cells.groupby("machine_id") if not cells.empty else []:
        kinds = sorted(set(group["device_kind"].dropna()))
        # a device's own name where it has one ("cpu: cpu" says nothing twice)
        names = sorted({n for n in group["device_name"].dropna() if n.lower() not in {k.lower() for k in kinds}})
        what = ", ".join(DEVICE_WORDS.get(k, k) for k in kinds) or "no device"
        out.append(code(machine) + md(f": measured on {what}{' (' + '; '.join(names) + ')' if names else ''}."))
    return out


def agreement(cells: pd.DataFrame) -> list[Markup]:
    out = []
    ok = _ok(cells)
    for (machine, workload), group in ok.groupby(["machine_id", "workload"]):
        if "accuracy" not in group or group["accuracy"].isna().all():
            continue
        acc, loss = group["accuracy"].dropna(), group["final_loss"].dropna()
        # significant digits, not decimals: a converged loss of 1e-4 must not read as 0.000
        out.append(code(machine) + md(f", {workload}: accuracy {100 * acc.min():.1f}–{100 * acc.max():.1f}%, "
                                      f"final loss {loss.min():.3g}–{loss.max():.3g} across {len(group)} cells."))
    return out


def context(tables: dict, claim_counts: dict, ecosystem_machines: list[str]) -> dict:
    cells, cases = tables["cells"], tables["cases"]
    return {
        "fastest": fastest_training(cells), "compile": compile_payoff(cells), "serving": serving(cases),
        "bf16": bf16(cells), "hardware": hardware(cells), "agreement": agreement(cells),
        "claims": claim_counts, "ecosystem_machines": ecosystem_machines,
        "has_accelerator": bool(not cells.empty and cells["device_kind"].isin(["cuda", "tpu"]).any()),
    }
