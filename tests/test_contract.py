"""Contract tier: every implementation and mode builds from the shared weights and
trains two steps at the smoke size with a finite, falling-or-sane loss."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import CELLS, WORKLOADS, cell_id

pytestmark = pytest.mark.contract


@pytest.mark.parametrize("cell", CELLS, ids=cell_id)
def test_implementation_runs_and_loads_shared_weights(probe, cell):
    out = probe(*cell)
    workload = WORKLOADS[cell[0]]
    problem = workload.neutral().make_problem(0, **workload.profile("smoke")["size"])
    # weights() returns the canonical names and exactly the weights it was given
    assert list(out["weight_names"]) == list(out["expected_names"])
    assert float(out["weights_roundtrip"]) == 0.0
    assert out["logits0"].shape == (64, problem.hyper["n_classes"])
    assert len(out["losses"]) >= 2
    assert np.all(np.isfinite(out["losses"])), out["losses"]
    assert np.all(np.isfinite(out["logits_final"]))
    # training moved the model
    assert not np.allclose(out["logits0"], out["logits_final"])
