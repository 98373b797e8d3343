"""Unit tier: the between-process noise pooled over a workload's cells (pipeline/core/noise.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import make_result

from pipeline.core import noise
from pipeline.core.metrics import sampled


def cell(framework: str, levels, workload="mlp_digits", machine="m1", status="ok") -> dict:
    samples = [level * f for level in levels for f in (1.0, 1.01, 0.99)]
    result = make_result(framework=framework, machine=machine, workload=workload, samples=samples,
                         processes=len(levels), status=status)
    if status == "ok":
        result["metrics"]["train_throughput"] = sampled("samples/s", samples, [3] * len(levels))
    return result


def test_pool_is_the_within_cell_variance_of_log_process_medians():
    a = ([100.0, 100.0, 110.0, 110.0], [2, 2])
    b = ([50.0, 60.0, 70.0], [1, 1, 1])
    pooled = noise.pool([a, b])
    logs_a, logs_b = np.log([100.0, 110.0]), np.log([50.0, 60.0, 70.0])
    squares = ((logs_a - logs_a.mean()) ** 2).sum() + ((logs_b - logs_b.mean()) ** 2).sum()
    assert pooled.df == 1 + 2 and pooled.variance == pytest.approx(squares / 3)
    assert pooled.sd == pytest.approx(math.sqrt(squares / 3))
    # one process (or samples without their processes) adds nothing; nothing at all gives None
    assert noise.pool([([1.0, 2.0, 3.0], [3]), ([1.0, 2.0], None)]) is None


def test_noise_is_pooled_per_machine_profile_and_workload_over_ok_cells():
    results = [cell("torch", [100, 110, 120]), cell("jax", [200, 200, 200]),
               cell("tensorflow", [10, 20, 30], status="crashed"),
               cell("torch", [100, 200, 300], workload="cnn_cifar"), cell("torch", [100, 101, 102], machine="m2")]
    pooled = noise.of_results(results)
    assert set(pooled) == {("m1", "smoke", "mlp_digits"), ("m1", "smoke", "cnn_cifar"), ("m2", "smoke", "mlp_digits")}
    mlp = pooled[("m1", "smoke", "mlp_digits")]
    assert mlp.df == 4  # two ok cells of three processes; the crashed one is left out
    assert mlp.variance == pytest.approx(np.log([100, 110, 120]).var(ddof=1) / 2)
    rows = noise.rows(results)
    assert [r["workload"] for r in rows if r["machine_id"] == "m1"] == ["cnn_cifar", "mlp_digits"]
    back = noise.from_row(next(r for r in rows if r["workload"] == "mlp_digits" and r["machine_id"] == "m1"))
    assert back == mlp
    assert noise.from_row({"variance": float("nan"), "df": 3}) is None and noise.from_row({}) is None
