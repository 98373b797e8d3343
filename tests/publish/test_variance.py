"""Unit tier: where the variance lives (pipeline/publish/variance.py), on simulated runs
whose levels are known."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import make_result

from pipeline.core.metrics import sampled
from pipeline.publish import variance

WITHIN, PROCESS, RUN = 0.05, 0.10, 0.08


def simulated(rng, run: str, framework: str, run_effect: float, samples=10, processes=3) -> dict:
    speeds = 1000.0 * np.exp(run_effect + rng.normal(0.0, PROCESS, processes))
    values = [float(s * np.exp(rng.normal(0.0, WITHIN))) for s in speeds for _ in range(samples)]
    result = make_result(framework=framework, samples=values, processes=processes)
    result["metrics"]["train_throughput"] = sampled("samples/s", values, [samples] * processes)
    result["metrics"]["train_step_time"] = {"unit": "s", "value": 0.01}
    result["timing"]["steps_per_sample"] = 5
    for p in result["processes"]:
        p.update({"run_id": run, "duration_s": 10.0})
    return result


def test_the_levels_come_back_from_simulated_runs():
    rng = np.random.default_rng(0)
    results = []
    for r in range(12):
        for cell in range(8):
            # each run moves each cell's level by its own amount: the run level
            results.append(simulated(rng, f"run{r}", f"cell{cell}", rng.normal(0.0, RUN)))
    [row] = variance.table(results).to_dict("records")
    assert row["runs"] == 12 and row["figures"] == 8 and row["processes"] == 12 * 8 * 3
    assert row["within_sd"] == pytest.approx(WITHIN, rel=0.1)
    assert row["process_sd"] == pytest.approx(PROCESS, rel=0.15)
    assert row["run_sd"] == pytest.approx(RUN, rel=0.3)
    # costs: 5 steps of 0.01 s a sample, 10 s a process, 10 samples timed
    assert row["sample_s"] == pytest.approx(0.05) and row["process_s"] == 10.0
    assert row["timed_share"] == pytest.approx(0.05)
    expected = np.sqrt(10.0 / 0.05 * row["within_sd"] ** 2 / row["process_sd"] ** 2)
    assert row["optimal_samples"] == pytest.approx(expected)
    assert "mlp_digits" in variance.text(variance.table(results))


def test_a_run_that_adds_nothing_reads_zero_and_one_run_has_no_run_level():
    rng = np.random.default_rng(1)
    no_run = [simulated(rng, f"run{r}", f"cell{c}", 0.0) for r in range(10) for c in range(8)]
    [row] = variance.table(no_run).to_dict("records")
    assert row["run_sd"] < 0.03
    [one] = variance.table([simulated(rng, "only", "cell0", 0.0)]).to_dict("records")
    assert np.isnan(one["run_sd"]) and one["runs"] == 1
    assert variance.table([]).empty


def test_published_keeps_the_shown_profile_of_each_machine():
    rng = np.random.default_rng(2)
    shown, smoke, kept = (simulated(rng, "a", "torch", 0.0) for _ in range(3))
    shown["profile"] = kept["profile"] = "default"
    assert variance.published([shown, smoke], [kept], ["default", "gpu"]) == [shown, kept]
