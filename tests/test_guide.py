"""Unit tier: the decision guide's answers carry the noise of the figures behind them
(pipeline/publish/guide.py): a margin inside its interval is a tie."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.publish import guide

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
