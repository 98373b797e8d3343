"""Physical bounds: a throughput claimed on hardware we lack, held against the
chip's published peak.

A claim such as "45,000 ResNet-50 training samples per second on one V100" needs
at least (samples per second) × (FLOPs per training sample) of arithmetic per
second. If that exceeds the chip's peak at its fastest dense precision, no
software can reach it: the claim is **physically impossible**. Otherwise it is
**physically possible**, at the stated share of peak; real training reaches a
fraction of peak, so a share near or above half says the claim is optimistic,
but that is for the reader, not a verdict.

FLOPs per sample come from ``site_data/model_costs.yaml`` (a published count, or
two FLOPs per parameter per token for the forward pass; training is the stated
multiple of the forward pass); peaks from ``site_data/accelerators.yaml``, the
chip's best dense rate. A published multiply-add count leaves out normalisation
and activations, so a verdict on one errs towards "possible"; the parameter rule
is an approximation (it counts embedding tables, which cost little arithmetic,
and leaves out attention over the context), good for a share of peak, not for a
verdict within a few percent of it.
"""

from __future__ import annotations

import math
from pathlib import Path

from pipeline.core.references import (
    ACCELERATORS_PATH,
    MODEL_COSTS_PATH,
    PRECISIONS,
    forward_flops,
    load_accelerators,
    load_model_costs,
    peaks,
)

#: the verdicts of a throughput on hardware we lack, held against the chip's published peak
IMPOSSIBLE, POSSIBLE = "physically impossible", "physically possible"

#: the machine_id of a bound verdict: arithmetic, not a machine
BOUND = "peak arithmetic"


def load_references(data_dir: Path) -> dict:
    """The two tables a bound reads, validated."""
    folder = Path(data_dir)
    return {"accelerators": load_accelerators(folder / ACCELERATORS_PATH.name),
            "models": load_model_costs(folder / MODEL_COSTS_PATH.name)}


def check(bound: dict, references: dict) -> list[str]:
    """What is wrong with one claim's ``bound`` block, as 'field: message' strings."""
    problems = []
    accelerators, models = references["accelerators"], references["models"]["models"]
    acc = accelerators.get(bound["accelerator"])
    if acc is None:
        problems.append(f"accelerator: no entry {bound['accelerator']!r} in accelerators.yaml; "
                        f"known: {', '.join(sorted(accelerators))}")
    elif bound["precision"] not in peaks(acc):
        problems.append(f"precision: {acc['name']} has no {bound['precision']}_flops figure in accelerators.yaml; "
                        f"it has: {', '.join(sorted(peaks(acc))) or 'none'}")
    if bound["model"] not in models:
        problems.append(f"model: no entry {bound['model']!r} in model_costs.yaml; known: {', '.join(sorted(models))}")
    low, high = bound["per_second"]
    if low > high:
        problems.append(f"per_second: the low end {low:g} is above the high end {high:g}")
    return problems


def rate_words(flops_per_s: float) -> str:
    return f"{flops_per_s / 1e12:,.0f} TFLOP/s" if flops_per_s >= 1e13 else f"{flops_per_s / 1e12:,.1f} TFLOP/s"


def share_words(share: float, of: str = "peak") -> str:
    """A share of peak in words: a percentage up to twice the peak, a multiple beyond."""
    return f"{share:.0%} of {of}" if share <= 2 else f"{share:.1f} times {of}"


def share_range(low: float, high: float) -> str:
    """The shares of peak at a claim's two ends: "37% to 110% of peak", "8.2 times the
    peak to 11.9 times the peak", or one share where the claim gives one figure."""
    if math.isclose(low, high):
        return share_words(low)
    if high <= 2:
        return f"{low:.0%} to {share_words(high)}"
    return f"{share_words(low)} to {share_words(high)}"


def judge(claim: dict, references: dict) -> dict:
    """One verdicts.csv row: side a is the arithmetic the claim needs at its low end,
    side b the chip's peak; ``ratio`` is the share of peak at the low end and
    ``ratio_low``/``ratio_high`` the shares at both ends."""
    bound = claim["bound"]
    acc = references["accelerators"][bound["accelerator"]]
    model = references["models"]["models"][bound["model"]]
    factor_fig = references["models"]["training_factor"]
    chips = bound.get("chips", 1)
    forward, forward_words = forward_flops(model)
    if bound["work"] == "training":
        per_sample = factor_fig["value"] * forward
        sample_words = (f"{per_sample / 1e9:,.3g} GFLOP per training sample "
                        f"({factor_fig['value']:g} × the forward pass: {forward_words})")
    else:
        per_sample = forward
        sample_words = f"{per_sample / 1e9:,.3g} GFLOP per inference sample ({forward_words})"
    peak = peaks(acc)[bound["precision"]] * chips
    hardware = f"one {acc['name']}" if chips == 1 else f"{chips} {acc['name']} chips"
    peak_words = f"the {PRECISIONS[bound['precision']]} peak of {hardware}, {rate_words(peak)}"
    low, high = bound["per_second"]
    need_low, need_high = low * per_sample, high * per_sample
    share_low, share_high = need_low / peak, need_high / peak
    claimed = f"{low:,.0f}" + (f" to {high:,.0f}" if high != low else "")
    opening = "At the claim's low end, " if high != low else ""
    reason = (f"{opening}{low:,.0f} samples/s × {sample_words} = {rate_words(need_low)}: "
              f"{share_words(share_low, peak_words)}")
    if high != low:
        reason += (f". The high end, {high:,.0f} samples/s, needs {rate_words(need_high)}: "
                   f"{share_words(share_high, 'that peak')}")
    if share_low > 1:
        verdict = IMPOSSIBLE
        reason += f". {'Even the low end' if high != low else 'It'} needs more arithmetic than the hardware can do"
    else:
        verdict = POSSIBLE
        reason += ", beyond it" if share_high > 1 else ""
    return {"claim": claim["id"], "machine_id": BOUND, "verdict": verdict, "reason": reason,
            "a_value": need_low, "a_cell": f"{claimed} samples/s × {per_sample / 1e9:,.3g} GFLOP",
            "b_value": peak, "b_cell": f"{PRECISIONS[bound['precision']]} peak of {hardware}", "ratio": share_low,
            "ratio_low": share_low, "ratio_high": share_high, "paired_rounds": 0, "close": False,
            "evidence": f"claims.md#{claim['id']}"}
