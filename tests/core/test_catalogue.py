"""Unit tier: the metric catalogue is the one source of a metric's unit and direction.
Every metric in every committed result is catalogued with the unit the result
records, and what the claims and charts use comes from it."""

from __future__ import annotations

import json

import pytest
from helpers import ROOT

from pipeline.core import catalogue
from pipeline.publish import charts, claims
from pipeline.publish.formats import fmt_value

RESULTS = sorted((ROOT / "site_data" / "results").rglob("*.json"))


def _matches(kind: str, recorded: str) -> bool:
    if kind == "rate":  # per second of whatever the workload counts, FLOPs of a matrix product included
        return recorded.endswith("/s")
    return kind == recorded


@pytest.mark.parametrize("path", RESULTS, ids=lambda p: "/".join(p.parts[-3:]))
def test_every_recorded_metric_is_catalogued_with_its_unit(path):
    result = json.loads(path.read_text())
    for name, metric in result["metrics"].items():
        base = name.split("/", 1)[1] if "/" in name else name
        entry = catalogue.CASE.get(base) if "/" in name else catalogue.TRAINING.get(base)
        assert entry is not None, f"{path.name}: {name} is not in pipeline/core/catalogue.py"
        assert _matches(entry.unit, metric["unit"]), f"{name}: catalogue {entry.unit}, result {metric['unit']}"


def test_claims_and_charts_read_the_catalogue():
    assert claims.TRAINING_METRICS == {m.name: m.better for m in catalogue.TRAINING.values()}
    assert claims.CASE_METRICS["time_p99"] == ("time.p99", "lower")
    assert charts.SAMPLED["train_throughput"] == "Training throughput ({unit}, higher is better)"


@pytest.mark.parametrize("name, value, unit, shown", [
    ("time_to_first_step", 0.0123, "", "0.0123 s"),  # seconds, as every table shows it
    ("time_to_first_step", 18.94, "", "18.9 s"),
    ("time", 0.000324, "", "0.324 ms"),  # a request in ms, as every table and chart shows it
    ("time_p99", 1.5404, "", "1,540 ms"),
    ("accuracy", 0.9612, "", "96.1%"),
    ("checkpoint_size", 3 * 2**20, "", "3 MiB"),
    ("train_throughput", 12345.0, "samples/s", "12.3 k samples/s"),
    ("achieved_flops", 5.2e10, "", "52 GFLOP/s"),
    ("compilations", 2.0, "", "2"),
    ("footprint_mb", 823.47, "", "823 MiB"),  # an ecosystem figure, by its own catalogue
    ("paper_share", 0.25, "", "25.0%"),
    ("final_loss", float("nan"), "", "unknown"),
])
def test_values_are_formatted_by_their_catalogued_unit(name, value, unit, shown):
    assert fmt_value(name, value, unit) == shown
