"""Unit tier: the tables built from result files (pipeline/publish/tables.py): whether a
cell is complete, the facts, the measured ceiling and the utilisation it sets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import bare_result, declaring, make_result

from pipeline.publish.tables import add_utilisation, build_tables, case_rows, ceilings, fact_rows


def test_complete_result_is_marked_complete(tmp_path):
    declared = {("mlp_digits", "smoke"): {"processes": 2, "samples": 3}}
    full = make_result(samples=(1.0, 2.0, 3.0, 4.0, 5.0, 6.0), processes=2)
    short = make_result("jax", "jit", samples=(1.0, 2.0, 3.0), processes=1)
    cells = build_tables([full, short], declaring(declared))["cells"]
    by_mode = cells.set_index("mode")
    assert bool(by_mode.loc["eager", "complete"]) is True
    assert bool(by_mode.loc["jit", "complete"]) is False
    assert by_mode.loc["jit", "incomplete_reason"] == "1 of 2 processes"


def test_fact_rows_come_from_the_first_ok_cell_and_keep_lists_as_json():
    rows = fact_rows([bare_result("jax", "jit", facts={"n": 2, "widths": [1, 2]}),
                      bare_result("torch", "eager", status="failed", facts={"n": 99}),
                      bare_result("torch", "compile", facts={"n": 1})])
    assert {(r["fact"], r["value"]) for r in rows} == {("n", 1)}
    rows = fact_rows([bare_result("jax", "jit", facts={"n": 2, "widths": [1, 2], "ok": True})])
    assert {(r["fact"], r["value"]) for r in rows} == {("n", 2), ("widths", "[1, 2]"), ("ok", "true")}


def test_ceiling_is_the_best_matmul_case_and_sets_utilisation():
    def result(framework, mode, flops):
        return {"machine_id": "m", "workload": "matmul", "framework": framework, "mode": mode,
                "timing": {"cases": {"fp32_64": {"precision": "fp32", "work": 1.0, "unit": "FLOP", "latency": False,
                                                 "repeat": 1}}},
                "cases": {"fp32_64": {"status": "ok", "reason": None}},
                "metrics": {"fp32_64/throughput": {"unit": "FLOP/s", "value": flops,
                                                   "summary": {"median": flops, "ci_low": flops, "ci_high": flops}},
                            "fp32_64/time": {"unit": "s", "value": 1 / flops, "summary": {"median": 1 / flops}}}}

    cases = pd.DataFrame(case_rows(result("torch", "eager", 4e9)) + case_rows(result("jax", "jit", 5e9)))
    top = ceilings(cases, ["matmul"])
    assert list(top["flops"]) == [5e9] and top.iloc[0]["cell"] == "JAX/Flax jax.jit"
    cells = pd.DataFrame([{"machine_id": "m", "achieved_flops": 1e9}, {"machine_id": "other", "achieved_flops": 1e9}])
    out = add_utilisation(cells, top)
    assert out.loc[0, "utilisation"] == pytest.approx(0.2)
    assert np.isnan(out.loc[1, "utilisation"])  # no ceiling measured there: unknown, never guessed


def test_a_cell_measured_before_its_profile_asked_for_more_samples_is_stale_not_incomplete():
    """The profile now asks for 20 samples; a cell planned and took 5 when it was measured (it
    is re-measured on its machine), while one that took fewer than its own plan is incomplete."""
    declared = {("mlp_digits", "smoke"): {"processes": 2, "samples": 20}}
    earlier = make_result(samples=tuple(float(v) for v in range(1, 11)), processes=2)  # plan 5, took 5 each
    cut_short = make_result("jax", "jit", samples=(1.0, 2.0, 3.0, 4.0, 5.0, 6.0), processes=2)  # took 3 of 5
    by_mode = build_tables([earlier, cut_short], declaring(declared))["cells"].set_index("mode")
    assert bool(by_mode.loc["eager", "complete"]) is True
    assert by_mode.loc["jit", "incomplete_reason"] == "3 of 5 samples per process"
