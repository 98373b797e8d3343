"""Unit tier: which location estimator repeat runs reproduce (pipeline/publish/estimators.py),
on runs whose changes are known."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import make_result

from pipeline.core.metrics import sampled
from pipeline.publish import estimators


def run_result(run: str, processes: list[list[float]], framework="torch", machine="m1") -> dict:
    values = [v for p in processes for v in p]
    result = make_result(framework=framework, machine=machine, samples=values, processes=len(processes))
    result["metrics"]["train_throughput"] = sampled("samples/s", values, [len(p) for p in processes])
    for p in result["processes"]:
        p["run_id"] = run
    return result


def test_each_estimator_reads_its_own_value():
    parts = [np.array([100.0, 100.0, 110.0]), np.array([50.0, 50.0, 80.0])]
    found = estimators.estimates(parts)
    assert found["median"] == 90.0  # the pooled six samples: halfway between 80 and 100
    assert found["process_mean"] == pytest.approx(np.sqrt(100.0 * 50.0))
    assert found["best_median"] == 95.0 and found["best"] == 110.0


def test_a_later_run_is_set_against_the_run_before_it_figure_by_figure():
    # run a: median 100, best 110; run b: median 104 (4% up), best 130 (18% up)
    a = run_result("20261201T000000Z", [[100.0, 100.0, 110.0], [100.0, 100.0, 110.0]])
    b = run_result("20261202T000000Z", [[104.0, 104.0, 130.0], [104.0, 104.0, 130.0]])
    rows = {r["estimator"]: r for r in estimators.table([b, a]).to_dict("records")}
    assert set(rows) == set(estimators.ESTIMATORS)
    assert rows["median"]["pairs"] == 1 and rows["median"]["figures"] == 1
    assert rows["median"]["within_5"] == 1.0 and rows["median"]["median_change"] == pytest.approx(0.04)
    assert rows["best"]["within_10"] == 0.0 and rows["best"]["within_25"] == 1.0
    assert rows["best"]["median_change"] == pytest.approx(130 / 110 - 1)
    assert "median" in estimators.text(estimators.table([a, b]))


def test_runs_pair_in_time_order_and_machines_apart():
    early, middle, late = "20261201T000000Z", "20261202T000000Z", "20261203T000000Z"
    found = [run_result(late, [[121.0, 121.0], [121.0, 121.0]]), run_result(early, [[100.0, 100.0], [100.0, 100.0]]),
             run_result(middle, [[110.0, 110.0], [110.0, 110.0]]),
             run_result(early, [[10.0, 10.0], [10.0, 10.0]], machine="m2")]
    moved = estimators.changes(estimators.figures(found))
    # early -> middle and middle -> late, each 10% up; never early -> late (21%)
    assert sorted(moved["pair"]) == [f"{early} -> {middle}", f"{middle} -> {late}"]
    assert moved["median"].to_numpy() == pytest.approx([1.1, 1.1])
    table = estimators.table(found)
    assert set(table["machine_id"]) == {"m1"}  # m2 has one run: nothing to reproduce


def test_a_figure_of_one_process_or_a_failed_cell_is_not_read():
    one = run_result("20261201T000000Z", [[100.0, 101.0, 99.0]])
    failed = make_result(status="crashed")
    assert estimators.figures([one, failed]).empty
    assert estimators.table([one, failed]).empty
