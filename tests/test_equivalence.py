"""Equivalence tier: given the same initial weights and batches, every framework and
mode computes the same logits and the same losses, within the workload's tolerance.
Failures name the workload, the two cells and the observed difference."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import CELLS, WORKLOADS, cell_id

pytestmark = pytest.mark.equivalence

REFERENCE = ("torch", "eager")
OTHERS = [c for c in CELLS if c[1:] != REFERENCE]


@pytest.mark.parametrize("cell", OTHERS, ids=cell_id)
def test_same_logits_from_same_weights(probe, cell):
    workload = cell[0]
    tol = WORKLOADS[workload].spec["tolerance"]
    ref, out = probe(workload, *REFERENCE), probe(*cell)
    diff = float(np.max(np.abs(ref["logits0"] - out["logits0"])))
    assert diff <= tol["logits_atol"], (
        f"{workload}: {'/'.join(cell[1:])} logits differ from {'/'.join(REFERENCE)} by {diff:.3g} "
        f"(tolerance {tol['logits_atol']})"
    )


@pytest.mark.parametrize("cell", OTHERS, ids=cell_id)
def test_same_losses_after_identical_steps(probe, cell):
    workload = cell[0]
    tol = WORKLOADS[workload].spec["tolerance"]
    ref, out = probe(workload, *REFERENCE), probe(*cell)
    rel = np.abs(ref["losses"] - out["losses"]) / np.abs(ref["losses"])
    assert float(rel.max()) <= tol["loss_rtol"], (
        f"{workload}: {'/'.join(cell[1:])} losses {out['losses']} differ from {'/'.join(REFERENCE)} "
        f"{ref['losses']} by up to {100 * rel.max():.3g}% (tolerance {100 * tol['loss_rtol']:.3g}%)"
    )
