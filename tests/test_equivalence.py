"""Equivalence tier: given the same initial weights and data, every framework and mode
computes the same thing as PyTorch eager, within the workload's tolerance
(:mod:`pipeline.core.equivalence`): the same logits, losses and trained weights for
training workloads, the same output for every operations case. Failures name the
workload, the two cells, the parameter or case and the observed difference."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import CELLS, OPERATION_CELLS, ROOT, TRAINING_CELLS, WORKLOADS, cell_id

from pipeline.core import equivalence
from pipeline.core.registry import WORKLOADS_DIR, load_workload
from pipeline.measure.protocols.operations import relative_error

pytestmark = pytest.mark.equivalence

REFERENCE = ("torch", "eager")
TRAINING = [c for c in TRAINING_CELLS if c[1:] != REFERENCE and (c[0], *REFERENCE) in CELLS]
OPERATIONS = [c for c in OPERATION_CELLS if c[1:] != REFERENCE and (c[0], *REFERENCE) in CELLS]


@pytest.mark.parametrize("cell", TRAINING, ids=cell_id)
def test_same_logits_from_same_weights(probe, cell):
    workload = cell[0]
    tol = WORKLOADS[workload].tolerance
    ref, out = probe(workload, *REFERENCE), probe(*cell)
    diff = float(np.max(np.abs(ref["logits0"] - out["logits0"])))
    assert diff <= tol["logits_atol"], (
        f"{workload}: {'/'.join(cell[1:])} logits differ from {'/'.join(REFERENCE)} by {diff:.3g} "
        f"(tolerance {tol['logits_atol']})"
    )


@pytest.mark.parametrize("cell", TRAINING, ids=cell_id)
def test_same_losses_after_identical_steps(probe, cell):
    workload = cell[0]
    tol = WORKLOADS[workload].tolerance
    ref, out = probe(workload, *REFERENCE), probe(*cell)
    rel = np.abs(ref["losses"] - out["losses"]) / np.abs(ref["losses"])
    assert float(rel.max()) <= tol["loss_rtol"], (
        f"{workload}: {'/'.join(cell[1:])} losses {out['losses']} differ from {'/'.join(REFERENCE)} "
        f"{ref['losses']} by up to {100 * rel.max():.3g}% (tolerance {100 * tol['loss_rtol']:.3g}%)"
    )


def trained_alike(workload: str, ref: dict, out: dict, who: str) -> list[str]:
    """Every parameter after the steps, by name, against the reference's."""
    w = WORKLOADS[workload] if isinstance(workload, str) else workload
    initial = w.make_problem(0, **w.profile("smoke")["size"]).init_weights
    trained = lambda arrays: {k[len("trained:"):]: v for k, v in arrays.items() if k.startswith("trained:")}  # noqa: E731
    return equivalence.weight_findings(initial, trained(ref), trained(out), w.tolerance["weights_rtol"], who)


@pytest.mark.parametrize("cell", TRAINING, ids=cell_id)
def test_same_weights_after_identical_steps(probe, cell):
    workload = cell[0]
    ref, out = probe(workload, *REFERENCE), probe(*cell)
    findings = trained_alike(workload, ref, out, f"{workload}: {'/'.join(cell[1:])} against {'/'.join(REFERENCE)}")
    assert not findings, "\n".join(findings)


@pytest.mark.parametrize("cell", OPERATIONS, ids=cell_id)
def test_same_output_for_every_case(probe, cell):
    workload = cell[0]
    w = WORKLOADS[workload]
    problem = w.make_problem(0, **w.profile("smoke")["size"])
    ref, out = probe(workload, *REFERENCE), probe(*cell)
    compared = 0
    for name, case in problem.cases.items():
        if f"out:{name}" not in ref or f"out:{name}" not in out:
            continue
        rtol = case.rtol or w.tolerance["output_rtol"]
        diff = relative_error(out[f"out:{name}"], ref[f"out:{name}"])
        assert diff <= rtol, (f"{workload}: {'/'.join(cell[1:])} case {name} differs from "
                              f"{'/'.join(REFERENCE)} by {diff:.3g} (relative; tolerance {rtol})")
        compared += 1
    assert compared, f"{workload}: no case ran in both {'/'.join(cell[1:])} and {'/'.join(REFERENCE)}"


def dropped_bias(tmp_path: Path) -> Path:
    """mlp_digits with the mistake a Flax cell made: the JAX model's middle layer has no
    bias, and ``weights()`` hands back the initial one as if it were held."""
    folder = tmp_path / "dropped_bias"
    shutil.copytree(WORKLOADS_DIR / "mlp_digits", folder, ignore=shutil.ignore_patterns("__pycache__"))
    impl = folder / "jax_impl.py"
    text = impl.read_text()
    for old, new in (
        ("self.dense1 = nnx.Linear(hidden, hidden, rngs=rngs)",
         "self.dense1 = nnx.Linear(hidden, hidden, use_bias=False, rngs=rngs)"),
        ('                layer.bias.value = jnp.asarray(problem.init_weights[f"b{i}"])',
         '                if layer.bias is not None:\n'
         '                    layer.bias.value = jnp.asarray(problem.init_weights[f"b{i}"])\n'
         '            self.missing = problem.init_weights["b1"]'),
        ('            out[f"b{i}"] = np.asarray(layer.bias.value)',
         '            out[f"b{i}"] = np.asarray(layer.bias.value) if layer.bias is not None else self.missing'),
    ):
        assert old in text, old
        text = text.replace(old, new)
    impl.write_text(text)
    return folder


def test_a_model_that_drops_a_bias_is_named(tmp_path):
    for name in ("torch", "jax"):
        pytest.importorskip(name)
    folder = dropped_bias(tmp_path)
    out = {}
    for framework, mode in (REFERENCE, ("jax", "jit")):
        path = tmp_path / f"{framework}.npz"
        proc = subprocess.run([sys.executable, str(ROOT / "tests" / "framework_probe.py"), str(folder), framework,
                               mode, str(path)], capture_output=True, text=True, cwd=ROOT, timeout=900,
                              env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
        assert proc.returncode == 0, proc.stderr[-3000:]
        out[framework] = dict(np.load(path))
    findings = trained_alike(load_workload(folder), out["torch"], out["jax"], "dropped_bias: jax/jit")
    assert findings and "'b1' never moved" in findings[0], findings
