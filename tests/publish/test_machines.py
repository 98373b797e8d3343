"""Unit tier: machines side by side. The ratio's interval is the repeat interval with a
machine on each side; a figure is a real difference only when the interval excludes 1;
figures of instruments of different methods are not compared; a claim or an answer that
differs between machines is judged by its own intervals."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from pipeline.core import instruments, statistics
from pipeline.core.noise import Noise
from pipeline.publish import machines

KEYS = {"workload": "w", "framework": "torch", "mode": "eager", "cell": "PyTorch eager", "order": 0,
        "status": "ok", "unit": "samples/s"}


def cells(*rows) -> pd.DataFrame:
    """(machine, median, processes, instrument) -> cells.csv rows of one cell."""
    return pd.DataFrame([{**KEYS, "machine_id": m, "train_throughput.median": median, "processes_ok": k,
                          "instrument": version} for m, median, k, version in rows])


NOISE = pd.DataFrame([{"machine_id": m, "workload": "w", "variance": 0.15 ** 2, "df": 30} for m in ("a", "b")])


def test_on_one_machine_the_interval_is_the_repeat_interval():
    """Same noise and processes on both sides: the ratio interval's half-width is the repeat
    interval's (t on the same degrees of freedom times s times the root of twice the
    median's variance)."""
    n = Noise(0.15 ** 2, 30)
    ratio, low, high = machines.ratio_interval(100.0, 3, n, 100.0, 3, n)
    samples = [90.0, 100.0, 110.0]
    r_low, r_high = statistics.repeat_interval(samples, [1, 1, 1], noise=Noise(0.15 ** 2, 60))
    assert ratio == 1.0
    assert math.log(high) == pytest.approx(math.log(r_high / 100.0), rel=1e-9)
    assert math.log(low) == pytest.approx(math.log(r_low / 100.0), rel=1e-9)


@pytest.mark.parametrize(("median_b", "judgement"), [(110.0, machines.WITHIN), (200.0, machines.REAL),
                                                      (50.0, machines.REAL)])
def test_a_figure_is_a_real_difference_only_outside_the_noise(median_b, judgement):
    pairs = machines.pairs(cells(("a", 100.0, 3, 3), ("b", median_b, 3, 3)), pd.DataFrame(), NOISE)
    [row] = pairs.to_dict("records")
    assert (row["machine_a"], row["machine_b"], row["judgement"]) == ("a", "b", judgement)
    assert row["ratio"] == pytest.approx(median_b / 100.0) and row["ratio_low"] < row["ratio"] < row["ratio_high"]


def test_figures_of_different_methods_are_not_compared(monkeypatch):
    other = instruments.Instrument(9, "0000000", "2099-01-01", 2, "times otherwise")
    monkeypatch.setattr(instruments, "BY_VERSION", {**instruments.BY_VERSION, 9: other})
    pairs = machines.pairs(cells(("a", 100.0, 3, 3), ("b", 300.0, 3, 9)), pd.DataFrame(), NOISE)
    [row] = pairs.to_dict("records")
    assert row["judgement"] == machines.APART and pd.isna(row["ratio"])
    [summary] = machines.differences(pairs, pd.DataFrame(), [])
    assert (summary["apart"], summary["judged"], summary["real"]) == (1, 0, 0)


def test_a_cell_measured_on_one_machine_only_is_not_a_pair():
    one = cells(("a", 100.0, 3, 3))
    two = pd.concat([one, cells(("b", 100.0, 3, 3)).assign(workload="other")])
    assert machines.pairs(two, pd.DataFrame(), NOISE).empty


def verdict(machine, value, ratio, low, high) -> dict:
    return {"claim": "c", "machine_id": machine, "verdict": value, "ratio": ratio, "ratio_low": low, "ratio_high": high}


def test_claims_that_differ_are_judged_by_their_ratios_intervals():
    apart = pd.DataFrame([verdict("a", "does not hold", 0.8, 0.7, 0.9), verdict("b", "holds", 1.3, 1.2, 1.4)])
    close = pd.DataFrame([verdict("a", "not settled at this precision", 0.95, 0.7, 1.3),
                          verdict("b", "holds", 1.1, 1.02, 1.2)])
    same = pd.DataFrame([verdict("a", "holds", 1.2, 1.1, 1.3), verdict("b", "holds", 1.5, 1.4, 1.6)])
    missing = pd.DataFrame([verdict("a", "holds", 1.2, 1.1, 1.3), verdict("b", "not measurable", None, None, None)])
    assert [c["judgement"] for c in machines.claim_differences(apart, "a", "b")] == [machines.REAL]
    assert [c["judgement"] for c in machines.claim_differences(close, "a", "b")] == [machines.WITHIN]
    assert machines.claim_differences(same, "a", "b") == []
    assert machines.claim_differences(missing, "a", "b")[0]["judgement"].startswith("not judged")


def answer(machine, framework, tie) -> dict:
    return {"machine_id": machine, "answer": {"status": "answered", "framework": framework, "label": framework,
                                             "tie": tie}}


def test_a_different_answer_is_real_only_when_neither_machine_has_a_tie():
    guide = [{"id": "s1", "title": "clear", "machines": [answer("a", "jax", False), answer("b", "torch", False)]},
             {"id": "s2", "title": "tied", "machines": [answer("a", "jax", True), answer("b", "torch", False)]},
             {"id": "s3", "title": "same", "machines": [answer("a", "jax", False), answer("b", "jax", True)]}]
    found = machines.answer_differences(guide, "a", "b")
    assert [(d["id"], d["judgement"]) for d in found] == [("s1", machines.REAL), ("s2", machines.WITHIN)]
