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
from helpers import CELLS, OPERATION_CELLS, ROOT, TRAINING_CELLS, WORKLOADS, cell_id, copy_workloads, supported

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
    if not supported(out, f"{workload}: {'/'.join(cell[1:])}"):
        return
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
    if not supported(out, f"{workload}: {'/'.join(cell[1:])}"):
        return
    rel = np.abs(ref["losses"] - out["losses"]) / np.abs(ref["losses"])
    assert float(rel.max()) <= tol["loss_rtol"], (
        f"{workload}: {'/'.join(cell[1:])} losses {out['losses']} differ from {'/'.join(REFERENCE)} "
        f"{ref['losses']} by up to {100 * rel.max():.3g}% (tolerance {100 * tol['loss_rtol']:.3g}%)"
    )


def prefixed(arrays: dict, prefix: str) -> dict:
    """The probe's arrays saved under ``prefix`` (``trained:``, ``single:``), by the name after it."""
    return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}


def trained_alike(workload: str, ref: dict, out: dict, who: str, rtol: float | None = None) -> list[str]:
    """Every parameter after the steps, by name, against the reference's (within the
    workload's ``weights_rtol`` unless ``rtol`` is given)."""
    w = WORKLOADS[workload] if isinstance(workload, str) else workload
    initial = w.make_problem(0, **w.profile("smoke")["size"]).init_weights
    return equivalence.weight_findings(initial, prefixed(ref, "trained:"), prefixed(out, "trained:"),
                                       rtol or w.tolerance["weights_rtol"], who)


@pytest.mark.parametrize("cell", TRAINING, ids=cell_id)
def test_same_weights_after_identical_steps(probe, cell):
    workload = cell[0]
    ref, out = probe(workload, *REFERENCE), probe(*cell)
    if not supported(out, f"{workload}: {'/'.join(cell[1:])}"):
        return
    findings = trained_alike(workload, ref, out, f"{workload}: {'/'.join(cell[1:])} against {'/'.join(REFERENCE)}")
    assert not findings, "\n".join(findings)


REPLICATED = [c for c in TRAINING_CELLS if WORKLOADS[c[0]].single_device]


@pytest.mark.parametrize("cell", REPLICATED, ids=cell_id)
def test_replicas_follow_the_single_device_trajectory(probe, cell):
    """A data-parallel cell's N replicas, against its single-device version in the same
    framework and mode on the same global batches: every loss and every trained weight."""
    workload, who = cell[0], f"{cell[0]}: {'/'.join(cell[1:])}"
    w = WORKLOADS[workload]
    out = probe(*cell)
    if not supported(out, who):
        return
    rtol = w.tolerance["replicas_rtol"]
    single = prefixed(out, "single:")
    rel = np.abs(out["losses"] - single["losses"]) / np.abs(single["losses"])
    assert float(rel.max()) <= rtol, (
        f"{who}: {w.replicas('smoke')} replicas' losses {out['losses']} differ from {w.single_device}'s single-device "
        f"{single['losses']} by up to {rel.max():.3g} (tolerance {rtol:g})")
    findings = trained_alike(workload, single, out, f"{who}: {w.replicas('smoke')} replicas against "
                                                    f"{w.single_device} on one device", rtol)
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


def unsynchronised_replicas(tmp_path: Path) -> Path:
    """data_parallel whose PyTorch ranks never average their gradients: rank 0 steps on
    its own shard alone, the mistake of training the bare module instead of the
    DistributedDataParallel wrapper."""
    copy_workloads(tmp_path, "mlp_digits", "data_parallel")
    impl = tmp_path / "data_parallel" / "torch_impl.py"
    old = "return nn.functional.cross_entropy(self.ddp(x), y)"
    assert old in impl.read_text()
    impl.write_text(impl.read_text().replace(old, "return nn.functional.cross_entropy(self.net(x), y)"))
    return tmp_path / "data_parallel"


def test_replicas_that_never_average_their_gradients_are_caught(tmp_path):
    pytest.importorskip("torch")
    path = tmp_path / "torch.npz"
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "framework_probe.py"),
                           str(unsynchronised_replicas(tmp_path)), "torch", "eager", str(path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = dict(np.load(path))
    single = prefixed(out, "single:")
    rel = np.abs(out["losses"] - single["losses"]) / np.abs(single["losses"])
    # the first loss comes before any update and agrees; the later ones drift apart
    assert rel[0] <= 1e-6 and rel[1:].max() > WORKLOADS["data_parallel"].tolerance["replicas_rtol"], rel
    findings = trained_alike("data_parallel", single, out, "unsynchronised", 1e-5)
    assert findings and all("trained differently" in f for f in findings), findings
