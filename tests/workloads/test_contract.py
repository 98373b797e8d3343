"""Contract tier: every implementation and mode builds from the shared weights and runs
at the smoke size: training cells train two steps with finite losses (in every declared
precision) and restore their checkpoints exactly, or refuse the mode with a reason; operations cells run every case or
say why not, with finite outputs close to the NumPy reference; and every cell's measuring
protocol runs at the smoke size with finite metrics."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import BF16_CELLS, OPERATION_CELLS, TRAINING_CELLS, WORKLOADS, cell_id, supported

from pipeline.measure.protocols.operations import relative_error

pytestmark = pytest.mark.contract


def smoke_problem(workload: str):
    w = WORKLOADS[workload]
    return w.make_problem(0, **w.profile("smoke")["size"])


@pytest.mark.parametrize("cell", TRAINING_CELLS, ids=cell_id)
def test_training_runs_and_loads_shared_weights(probe, cell):
    out = probe(*cell)
    problem = smoke_problem(cell[0])
    who = f"{cell[0]}: {'/'.join(cell[1:])}"
    if not supported(out, who):
        return
    # weights() returns the canonical names and exactly the weights it was given
    names, expected = set(out["weight_names"]), set(out["expected_names"])
    assert names == expected, (f"{who}: weights() names {sorted(names - expected)} that init_weights lacks and "
                               f"lacks {sorted(expected - names)}")
    roundtrip = {k[len("initial:"):]: float(np.max(np.abs(v - problem.init_weights[k[len("initial:"):]])))
                 for k, v in out.items() if k.startswith("initial:")}
    off = {k: d for k, d in roundtrip.items() if d != 0.0}
    assert not off, (f"{who}: weights() right after build differs from the shared initial weights in "
                     + ", ".join(f"{k!r} (by {d:.3g})" for k, d in sorted(off.items())))
    assert out["logits0"].shape[0] == min(64, len(problem.eval_x)), f"{who}: predict() returned {out['logits0'].shape}"
    assert len(out["losses"]) >= 2, f"{who}: {len(out['losses'])} loss(es) recorded"
    assert np.all(np.isfinite(out["losses"])), f"{who}: non-finite losses {out['losses']}"
    assert np.all(np.isfinite(out["logits_final"])), f"{who}: non-finite logits after training"
    assert not np.allclose(out["logits0"], out["logits_final"]), f"{who}: training did not change the logits"
    if "checkpoint_error" in out:
        assert float(out["checkpoint_error"]) <= 1e-6, (
            f"{who}: a model restored from its checkpoint predicts differently, by {float(out['checkpoint_error'])}")


@pytest.mark.parametrize("cell", BF16_CELLS, ids=cell_id)
def test_bf16_trains_close_to_fp32(probe, cell):
    fp32, bf16 = probe(*cell), probe(*cell, precision="bf16")
    assert np.all(np.isfinite(bf16["losses"])), f"{'/'.join(cell)}: non-finite bf16 losses {bf16['losses']}"
    rel = np.abs(bf16["losses"] - fp32["losses"]) / np.abs(fp32["losses"])
    # bf16 keeps 8 bits of mantissa: close to fp32, never equal
    assert float(rel.max()) <= 0.05, f"{'/'.join(cell)}: bf16 losses {bf16['losses']} vs fp32 {fp32['losses']}"


@pytest.mark.parametrize("cell", OPERATION_CELLS, ids=cell_id)
def test_operations_run_every_case_or_say_why(probe, cell):
    out = probe(*cell)
    problem = smoke_problem(cell[0])
    rtol = WORKLOADS[cell[0]].tolerance["output_rtol"]
    ran = 0
    for name, case in problem.cases.items():
        if f"unsupported:{name}" in out:
            assert str(out[f"unsupported:{name}"]).strip(), f"{name}: unsupported without a reason"
            continue
        output = out[f"out:{name}"]
        assert np.all(np.isfinite(output)), f"{'/'.join(cell)} {name}: non-finite output"
        expected = problem.reference(name) if problem.reference else None
        if expected is not None:
            error = relative_error(output, expected)
            assert error <= (case.rtol or rtol), (
                f"{cell[0]}: {'/'.join(cell[1:])} case {name} differs from the NumPy reference by {error:.3g} "
                f"(tolerance {case.rtol or rtol})")
        ran += 1
    assert ran, f"{'/'.join(cell)} ran no case"


@pytest.mark.parametrize("cell", TRAINING_CELLS + OPERATION_CELLS, ids=cell_id)
def test_the_measuring_protocol_runs_at_the_smoke_size(probe, cell):
    """What a measured process of the cell does (pipeline.measure.worker.time_cell), in the probe's
    process: ok with finite metrics, or the mode refused with its reason; every case ok or said why not."""
    out = probe(*cell)
    who = f"{cell[0]}: {'/'.join(cell[1:])}"
    outcome = json.loads(str(out["protocol"]))
    if outcome["status"] == "unsupported":
        assert outcome["reason"], f"{who}: unsupported without a reason"
        return
    assert outcome["status"] == "ok", f"{who}: {outcome['status']}: {outcome['reason']}"
    metrics = outcome["metrics"]
    assert metrics, f"{who}: no metric recorded"
    values = [v for m in metrics.values() for v in [m.get("value"), *m.get("samples", [])]
              if isinstance(v, (int, float))]
    assert values and np.all(np.isfinite(values)), f"{who}: non-finite metrics {metrics}"
    if WORKLOADS[cell[0]].is_training:
        plan = WORKLOADS[cell[0]].profile("smoke")["timing"]
        assert len(metrics["train_throughput"]["samples"]) == plan["samples"], f"{who}: {metrics['train_throughput']}"
    cases = outcome["cases"]
    assert cases, f"{who}: no case recorded"
    wrong = {name: c for name, c in cases.items()
             if not (c["status"] == "ok" or (c["status"] == "unsupported" and c["reason"]))}
    assert not wrong, f"{who}: {wrong}"
