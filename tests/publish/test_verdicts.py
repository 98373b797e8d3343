"""Unit tier: the verdict logic (pipeline/publish/verdicts.py): each side's best cell, the
ratio against the threshold, what cannot be measured and why, on small hand-made tables
(no framework needed)."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import cells_row, one_claim, small_tables

from pipeline.publish import claims
from pipeline.publish.verdicts import FAILS, HOLDS, UNMEASURABLE, UNSETTLED, judge


@pytest.fixture()
def tables():
    return small_tables()


def _verdicts(pred, tables, ecosystem=None):
    out = judge(one_claim(pred), tables, ecosystem or {"snapshot": {}, "live": {}})
    return {r["machine_id"]: r for r in out.to_dict("records")}


def test_best_mode_per_side_and_ratio(tables):
    v = _verdicts({"workload": "cnn_cifar", "metric": "train_throughput", "a": ["torch"], "b": ["jax"],
                   "at_least": 2.0}, tables)
    assert v["m1"]["verdict"] == HOLDS  # torch's best (compile, 1300) / 600
    assert v["m1"]["a_cell"] == "PyTorch torch.compile"
    assert v["m1"]["ratio"] == pytest.approx(1300 / 600)
    assert v["g1"]["verdict"] == FAILS  # 5000 / 7000 on the GPU machine
    assert v["g1"]["ratio"] == pytest.approx(5000 / 7000)


def test_machines_without_the_workload_get_no_verdict(tables):
    """Their workload page has no section to link to; a claim is judged where it was measured."""
    v = _verdicts({"workload": "inference_latency", "metric": "time", "case": "cnn_b1", "a": ["torch"],
                   "at_most": 1.0}, tables)
    assert set(v) == {"m1"}


def test_hardware_restriction_is_not_measurable_elsewhere(tables):
    v = _verdicts({"workload": "cnn_cifar", "metric": "train_throughput", "a": ["jax"], "b": ["torch"],
                   "at_least": 1.0, "hardware": ["cuda"]}, tables)
    assert v["m1"]["verdict"] == UNMEASURABLE and "cuda" in v["m1"]["reason"] and "cpu" in v["m1"]["reason"]
    assert v["g1"]["verdict"] == HOLDS


def test_failed_cell_is_not_measurable_with_its_status(tables):
    v = _verdicts({"workload": "cnn_cifar", "metric": "train_throughput", "a": ["tensorflow:xla"],
                   "b": ["torch:eager"], "at_least": 1.0}, tables)
    assert v["m1"]["verdict"] == UNMEASURABLE
    assert "crashed" in v["m1"]["reason"]
    assert v["g1"]["verdict"] == UNMEASURABLE and "no result" in v["g1"]["reason"]


def test_not_settled_when_the_interval_crosses_the_threshold(tables):
    """1020 against 1000 with overlapping intervals: the median says 'holds', the interval
    cannot tell, so no verdict is given; the reason states the interval and the threshold."""
    v = _verdicts({"workload": "cnn_cifar", "metric": "train_throughput", "a": ["tensorflow:function"],
                   "b": ["torch:eager"], "at_least": 1.0}, tables)
    assert v["m1"]["verdict"] == UNSETTLED and v["m1"]["close"] is True
    assert "reaches both sides of the threshold" in v["m1"]["reason"] and "wanted ≥ 1" in v["m1"]["reason"]
    v = _verdicts({"workload": "cnn_cifar", "metric": "train_throughput", "a": ["torch:compile"],
                   "b": ["torch:eager"], "at_least": 1.0}, tables)
    assert v["m1"]["close"] is False


def test_lower_is_better_metrics_pick_the_minimum(tables):
    v = _verdicts({"workload": "inference_latency", "metric": "time", "case": "cnn_b1", "a": ["tensorflow"],
                   "b": ["torch"], "at_most": 1.0}, tables)
    assert v["m1"]["a_cell"] == "TensorFlow tf.function" and v["m1"]["a_value"] == pytest.approx(0.0014)
    assert v["m1"]["verdict"] == FAILS


def test_b_case_and_absolute_thresholds(tables):
    v = _verdicts({"workload": "autodiff_advanced", "metric": "throughput", "case": "per_example_grads",
                   "b_case": "per_example_grads_loop", "a": ["jax"], "b": ["jax"], "at_least": 10}, tables)
    assert v["m1"]["verdict"] == HOLDS and v["m1"]["ratio"] == pytest.approx(24)
    v = _verdicts({"workload": "cnn_cifar", "metric": "time_to_first_step", "a": ["torch:compile"],
                   "at_least": 5, "at_most": 10}, tables)
    assert v["m1"]["verdict"] == FAILS and v["m1"]["ratio"] == pytest.approx(20)


def test_ecosystem_snapshot_and_live():
    eco = {"snapshot": {"frameworks": {"torch": {"github_stars": {"value": 90000, "source": "https://x",
                                                                  "retrieved": "2026-11-22"}},
                                       "jax": {"github_stars": {"value": None, "source": "https://y",
                                                                "retrieved": "2026-11-22", "error": "offline"}}}},
           "live": {"m1": {"frameworks": {"torch": {"installed": True, "figures": {"footprint_mb": {"value": 900}}},
                                          "jax": {"installed": True, "figures": {"footprint_mb": {"value": 300}}}}}}}
    empty = {"cells": pd.DataFrame(), "cases": pd.DataFrame()}
    v = _verdicts({"ecosystem": "github_stars", "a": ["torch"], "b": ["jax"], "at_least": 1}, empty, eco)
    # the reader learns what is missing, in words; the fetch error stays in the snapshot for maintainers
    assert v[claims.PUBLIC]["verdict"] == claims.AWAITING  # not "not measurable": it can be, once read
    assert v[claims.PUBLIC]["reason"] == "GitHub stars of JAX/Flax: not retrieved from its public source"
    v = _verdicts({"ecosystem": "github_stars", "a": ["torch"], "at_least": 50000}, empty, eco)
    assert v[claims.PUBLIC]["verdict"] == HOLDS
    v = _verdicts({"ecosystem": "footprint_mb", "a": ["jax"], "b": ["torch"], "at_most": 0.5}, empty, eco)
    assert v["m1"]["verdict"] == HOLDS and v["m1"]["ratio"] == pytest.approx(1 / 3)


def test_unmeasurable_and_needs_claims_get_one_row(tables):
    doc = one_claim({"workload": "cnn_cifar", "metric": "train_throughput", "a": ["torch"], "at_least": 1})
    doc["claims"] += [
        {"id": "u1", "source": "s1", "claim": "salaries are higher", "unmeasurable": {
            "why": "people", "settled_by": {"name": "Survey", "url": "https://survey.example"}}},
        {"id": "n1", "source": "s1", "claim": "scales to many GPUs", "needs": "a multi-GPU machine"},
    ]
    out = judge(doc, tables, {"snapshot": {}, "live": {}}).set_index("claim")
    assert out.loc["u1", "verdict"] == UNMEASURABLE and out.loc["u1", "evidence"] == "https://survey.example"
    assert "multi-GPU" in out.loc["n1", "reason"]


def _sample_rows(machine, workload, framework, mode, metric, rounds):
    return [{"machine_id": machine, "workload": workload, "framework": framework, "mode": mode, "metric": metric,
             "sample": i, "process": float(process), "value": float(v)}
            for process, values in rounds for i, v in enumerate(values)]


def test_a_claim_measured_side_by_side_is_judged_round_by_round():
    """torch.compile 15% faster than eager in every round while the machine's speed
    changes between rounds: the sides' own intervals straddle the bar, the paired
    ratio does not."""
    import numpy as np

    rng = np.random.default_rng(5)
    speeds = [1.0, 0.55, 1.6]
    fast = [(i, 1150 * s * (1 + rng.normal(0, 0.02, 8))) for i, s in enumerate(speeds)]
    slow = [(i, 1000 * s * (1 + rng.normal(0, 0.02, 8))) for i, s in enumerate(speeds)]
    # each side's figure and interval as the cells table has them: spanning the rounds
    cells = pd.DataFrame([
        {**cells_row("m1", "cnn_cifar", "torch", "compile", 1150.0, low=650, high=1800), "run_id": "r1"},
        {**cells_row("m1", "cnn_cifar", "torch", "eager", 1000.0, low=560, high=1580), "run_id": "r1"},
    ])
    samples = pd.DataFrame(_sample_rows("m1", "cnn_cifar", "torch", "compile", "train_throughput", fast)
                           + _sample_rows("m1", "cnn_cifar", "torch", "eager", "train_throughput", slow))
    pred = {"workload": "cnn_cifar", "metric": "train_throughput", "a": ["torch:compile"], "b": ["torch:eager"],
            "at_least": 1.05}
    unpaired = _verdicts(pred, {"cells": cells, "cases": pd.DataFrame()})["m1"]
    assert unpaired["close"] and unpaired["paired_rounds"] == 0
    paired = _verdicts(pred, {"cells": cells, "cases": pd.DataFrame(), "samples": samples})["m1"]
    assert paired["verdict"] == HOLDS and not paired["close"] and paired["paired_rounds"] == 3
    assert paired["ratio"] == pytest.approx(1.15, rel=0.03)
    assert 1.05 < paired["ratio_low"] < 1.15 < paired["ratio_high"]
    assert paired["reason"].startswith("ratio a/b 1.1") and ", paired over 3 rounds, wanted ≥ 1.05" in paired["reason"]
    # a round one side lacks (a process left out as contended) is not paired
    one_round = samples[~((samples["framework"] == "torch") & (samples["mode"] == "eager")
                          & (samples["process"] > 0))]
    alone = _verdicts(pred, {"cells": cells, "cases": pd.DataFrame(), "samples": one_round})["m1"]
    assert alone["paired_rounds"] == 0 and alone["close"]
    # the two cells measured by different runs: their process 0s were not one round
    apart = cells.assign(run_id=["r1", "r2"])
    assert _verdicts(pred, {"cells": apart, "cases": pd.DataFrame(), "samples": samples})["m1"]["paired_rounds"] == 0


def test_cells_from_runs_of_different_speed_are_not_compared():
    """A partial re-run on a machine whose speed index moved: its cells are not set
    against the earlier run's."""
    cells = pd.DataFrame([
        {**cells_row("m1", "cnn_cifar", "torch", "compile", 1300.0), "run_id": "r2"},
        {**cells_row("m1", "cnn_cifar", "torch", "eager", 1000.0), "run_id": "r1"},
    ])
    runs = [{"run_id": "r1", "speed_blas_ms": 3.0, "speed_python_ms": 13.0},
            {"run_id": "r2", "speed_blas_ms": 3.1, "speed_python_ms": 18.0}]
    pred = {"workload": "cnn_cifar", "metric": "train_throughput", "a": ["torch:compile"], "b": ["torch:eager"],
            "at_least": 1.1}
    tables = {"cells": cells, "cases": pd.DataFrame(), "machines": [{"machine_id": "m1", "runs": runs}]}
    v = _verdicts(pred, tables)["m1"]
    assert v["verdict"] == UNMEASURABLE
    assert v["reason"].startswith("side a (PyTorch torch.compile) was measured in run r2, side b (PyTorch eager) "
                                  "in run r1, and the machine's speed index moved (Python loop 0.72x; limit 1.1x)")
    runs[1]["speed_python_ms"] = 13.5  # within the limit: one machine
    assert _verdicts(pred, tables)["m1"]["verdict"] == HOLDS
