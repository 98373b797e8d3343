"""Unit tier: the processes of a cell combined into one result (pipeline/core/metrics.py):
samples pooled in process order, the worst status kept, contended processes left out."""

from __future__ import annotations

import pytest
from helpers import contended, make_result

from pipeline.core import results
from pipeline.core.metrics import combine


def test_combine_pools_samples_and_takes_the_worst_status():
    a = make_result(samples=(1.0, 2.0, 3.0))
    b = make_result(samples=(4.0, 5.0, 6.0))
    b["processes"][0]["index"] = 1
    merged = combine([b, a])
    assert [p["index"] for p in merged["processes"]] == [0, 1]
    # in process order whatever order the parts came in, with how many each process took
    assert merged["metrics"]["train_throughput"]["samples"] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert merged["metrics"]["train_throughput"]["groups"] == [3, 3]
    assert merged["metrics"]["train_throughput"]["value"] == 3.5
    summary = merged["metrics"]["train_throughput"]["summary"]
    assert summary["processes"] == 2 and summary["process_medians"] == [2.0, 5.0]
    assert summary["ci_method"].startswith("hierarchical") and summary["unstable_part"] == "between processes"
    assert merged["metrics"]["time_to_first_step"]["per_process"] == [0.5, 0.5]
    assert merged["status"] == "ok"
    crashed = make_result(status="crashed")
    crashed["processes"][0]["index"] = 2
    worse = combine([a, b, crashed])
    assert worse["status"] == "crashed" and worse["reason"] == "process 3 of 3: boom"
    # the samples of the processes that succeeded are kept, not thrown away
    assert len(worse["metrics"]["train_throughput"]["samples"]) == 6
    results.validate(worse, "x.json")


def test_a_contended_process_is_kept_in_the_record_but_not_in_the_figures():
    a = make_result(samples=(1.0, 2.0, 3.0))
    b = contended(make_result(samples=(40.0, 50.0, 60.0)), 1,
                  "contended in all 3 attempts; the last: other work used 0.90 cores")
    merged = combine([a, b])
    assert merged["status"] == "ok"
    assert merged["metrics"]["train_throughput"]["samples"] == [1.0, 2.0, 3.0]
    assert [p["status"] for p in merged["processes"]] == ["ok", "contended"]
    results.validate(merged, "x.json")
    contended(a, 0, "contended in all 3 attempts; the last: other work used 0.40 cores")
    alone = combine([a, b])
    assert alone["status"] == "contended" and alone["metrics"] == {}
    assert alone["reason"] == "all 2 processes ran beside other work; process 1: " + a["reason"]
    results.validate(alone, "x.json")


def test_combine_refuses_different_cells():
    with pytest.raises(ValueError, match="different cells"):
        combine([make_result("torch", "eager"), make_result("jax", "jit")])
