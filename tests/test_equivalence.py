"""Equivalence tier: given the same initial weights and data, every framework and mode
computes the same thing as PyTorch eager, within the workload's tolerance: the same
logits and losses for training workloads, the same output for every operations case.
Failures name the workload, the two cells and the observed difference."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import CELLS, OPERATION_CELLS, TRAINING_CELLS, WORKLOADS, cell_id

from pipeline.measure.protocols.operations import relative_error

pytestmark = pytest.mark.equivalence

REFERENCE = ("torch", "eager")
TRAINING = [c for c in TRAINING_CELLS if c[1:] != REFERENCE and (c[0], *REFERENCE) in CELLS]
OPERATIONS = [c for c in OPERATION_CELLS if c[1:] != REFERENCE and (c[0], *REFERENCE) in CELLS]


@pytest.mark.parametrize("cell", TRAINING, ids=cell_id)
def test_same_logits_from_same_weights(probe, cell):
    workload = cell[0]
    tol = WORKLOADS[workload].spec["tolerance"]
    ref, out = probe(workload, *REFERENCE), probe(*cell)
    diff = float(np.max(np.abs(ref["logits0"] - out["logits0"])))
    assert diff <= tol["logits_atol"], (
        f"{workload}: {'/'.join(cell[1:])} logits differ from {'/'.join(REFERENCE)} by {diff:.3g} "
        f"(tolerance {tol['logits_atol']})"
    )


@pytest.mark.parametrize("cell", TRAINING, ids=cell_id)
def test_same_losses_after_identical_steps(probe, cell):
    workload = cell[0]
    tol = WORKLOADS[workload].spec["tolerance"]
    ref, out = probe(workload, *REFERENCE), probe(*cell)
    rel = np.abs(ref["losses"] - out["losses"]) / np.abs(ref["losses"])
    assert float(rel.max()) <= tol["loss_rtol"], (
        f"{workload}: {'/'.join(cell[1:])} losses {out['losses']} differ from {'/'.join(REFERENCE)} "
        f"{ref['losses']} by up to {100 * rel.max():.3g}% (tolerance {100 * tol['loss_rtol']:.3g}%)"
    )


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
        rtol = case.rtol or w.spec["tolerance"]["output_rtol"]
        diff = relative_error(out[f"out:{name}"], ref[f"out:{name}"])
        assert diff <= rtol, (f"{workload}: {'/'.join(cell[1:])} case {name} differs from "
                              f"{'/'.join(REFERENCE)} by {diff:.3g} (relative; tolerance {rtol})")
        compared += 1
    assert compared, f"{workload}: no case ran in both {'/'.join(cell[1:])} and {'/'.join(REFERENCE)}"
