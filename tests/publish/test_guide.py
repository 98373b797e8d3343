"""Unit tier: the decision guide (pipeline/publish/guide.py): scores relative to the best,
required criteria and weights, answers per machine on small hand-made tables, the committed
scenarios; and its answers carry the noise of the figures behind them: a margin inside its
interval is a tie."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import ROOT, small_tables

from pipeline.core.registry import discover
from pipeline.publish import claims, guide

LEDGER = ROOT / "site_data" / "claims.yaml"
SCENARIOS = ROOT / "site_data" / "scenarios.yaml"


@pytest.fixture(scope="module")
def workloads():
    return discover()


@pytest.fixture()
def tables():
    return small_tables()

SCENARIO = {"criteria": [{"label": "Training speed", "metric": "train_throughput", "workload": "cnn_cifar"},
                         {"label": "Lines of code", "ergonomics": "lines"}]}


def rows(torch: float, jax: float, sd: float | None) -> list[dict]:
    """A measured criterion (higher is better) with each figure's noise, and an exact count."""
    speed = {"torch": {"value": torch, "sd": sd}, "jax": {"value": jax, "sd": sd}}
    lines = {"torch": {"value": 100.0}, "jax": {"value": 100.0}}
    return [{"values": speed, "scores": guide.score(SCENARIO["criteria"][0], speed)},
            {"values": lines, "scores": guide.score(SCENARIO["criteria"][1], lines)}]


def answer(torch: float, jax: float, sd: float | None) -> dict:
    r = rows(torch, jax, sd)
    return guide.answer(SCENARIO, r, guide.recommend(SCENARIO, r))


def test_a_margin_inside_the_noise_is_a_tie():
    tied = answer(1050.0, 1000.0, sd=0.10)  # 5% apart, figures that move 10% from run to run
    assert tied["status"] == "answered" and tied["label"] == "PyTorch" and tied["runner_up"] == "JAX/Flax"
    assert tied["margin_low"] < 0 < tied["margin"] < tied["margin_high"] and tied["tie"] is True


def test_a_margin_beyond_the_noise_names_a_winner_with_its_interval():
    clear = answer(2000.0, 1000.0, sd=0.05)
    assert clear["tie"] is False and 0 < clear["margin_low"] < clear["margin"] < clear["margin_high"]
    # the same margin from exact figures (counts, sizes: no repeat interval) has no width at all
    exact = answer(2000.0, 1000.0, sd=None)
    assert exact["margin_low"] == pytest.approx(exact["margin"]) == pytest.approx(exact["margin_high"])
    assert exact["tie"] is False
    # seeded: the same tables give the same pages
    assert answer(1050.0, 1000.0, sd=0.10) == answer(1050.0, 1000.0, sd=0.10)


def test_run_sd_reads_one_runs_noise_from_the_repeat_interval():
    # a repeat interval of ±Z·√2 sd around the median, in logs
    sd = 0.1
    half = guide.Z * np.sqrt(2) * sd
    assert guide.run_sd(np.exp(-half) * 100, np.exp(half) * 100) == pytest.approx(sd)
    assert guide.run_sd(None, 2.0) is None and guide.run_sd(float("nan"), 2.0) is None
    assert guide.run_sd(2.0, 1.0) is None


def test_guide_scores_relative_to_the_best():
    crit = {"label": "speed", "why": "", "workload": "cnn_cifar", "metric": "train_throughput"}
    scores = guide.score(crit, {"torch": {"value": 100.0}, "jax": {"value": 50.0}})
    assert scores == {"torch": 1.0, "jax": 0.5}
    crit = {"label": "latency", "why": "", "workload": "inference_latency", "metric": "time", "case": "cnn_b1"}
    assert guide.score(crit, {"torch": {"value": 1.0}, "jax": {"value": 4.0}}) == {"torch": 1.0, "jax": 0.25}


def test_guide_required_criterion_counts_zero_and_weights_apply():
    scenario = {"criteria": [{"label": "runtime", "required": True, "weight": 2}, {"label": "size"}]}
    rows = [{"scores": {"tensorflow": 1.0}}, {"scores": {"tensorflow": 0.5, "torch": 1.0}}]
    ranking = guide.recommend(scenario, rows)
    by = {r["framework"]: r for r in ranking}
    assert by["tensorflow"]["score"] == pytest.approx((2 * 1.0 + 0.5) / 3)
    assert by["torch"]["score"] == pytest.approx((2 * 0 + 1.0) / 3)
    assert ranking[0]["framework"] == "tensorflow"
    # the reader drops the required criterion: torch wins on size alone
    assert guide.recommend(scenario, rows, weights={"runtime": 0})[0]["framework"] == "torch"


def test_guide_evaluates_per_machine_and_marks_hardware(tables, workloads):
    scenario = {"id": "s", "title": "S", "summary": "", "sources": ["s1"], "criteria": [
        {"label": "speed", "why": "w", "workload": "cnn_cifar", "metric": "train_throughput"},
        {"label": "tpu speed", "why": "w", "workload": "cnn_cifar", "metric": "train_throughput",
         "hardware": ["tpu"]}]}
    out = guide.evaluate({"scenarios": [scenario]}, tables, {"snapshot": {}, "live": {}}, pd.DataFrame())
    machines = {m["machine_id"]: m for m in out[0]["machines"]}
    m1 = machines["m1"]
    assert m1["criteria"][0]["values"]["torch"]["value"] == 1300.0
    assert m1["criteria"][1]["not_measurable"] and m1["criteria"][1]["scores"] == {}
    assert m1["ranking"][0]["framework"] == "torch"
    assert machines["g1"]["ranking"][0]["framework"] == "jax"
    # a machine without the workload: no values, no crash (it once selected zero columns)
    scenario["criteria"].append({"label": "eager", "why": "w", "workload": "transformer_lm",
                                 "metric": "train_throughput", "cells": ["torch:eager"]})
    out = guide.evaluate({"scenarios": [scenario]}, tables, {"snapshot": {}, "live": {}}, pd.DataFrame())
    assert out[0]["machines"][0]["criteria"][2]["values"] == {}


def test_scenarios_file_is_valid(workloads):
    doc = claims.load(LEDGER, workloads)
    scenarios = guide.load(SCENARIOS, workloads, sources={s["id"] for s in doc["sources"]},
                           claim_ids={c["id"] for c in doc["claims"]})
    ids = {s["id"] for s in scenarios["scenarios"]}
    assert {"research-prototyping", "edge-mobile", "large-scale-tpu", "scientific-computing",
            "regulated-production", "first-project"} <= ids
