"""Unit tier: which instrument measured a result, and which results may be compared."""

from __future__ import annotations

import json

import pytest
from helpers import ROOT

from pipeline.core import instruments


def result(version=None, interference=None, measured=True) -> dict:
    process = {"samples": 3 if measured else 0}
    if interference is not None:
        process["interference"] = interference
    r = {"provenance": {}, "processes": [process]}
    if version is not None:
        r["provenance"]["instrument"] = {"version": version, "sha256": "0" * 64}
    return r


def test_a_recorded_version_is_taken_as_recorded():
    assert instruments.version_of(result(version=2, interference={"stretches": 3})) == 2


@pytest.mark.parametrize(("interference", "version"), [
    ({"window_s": 1.0, "stretches": 2}, 3),  # read over the timed samples
    ({"window_s": 1.0}, 2),  # read over the whole process
    (None, 1),  # nothing recorded
])
def test_a_result_from_before_the_field_is_placed_by_its_processes(interference, version):
    assert instruments.version_of(result(interference=interference)) == version


def test_a_result_that_measured_nothing_has_no_instrument_and_blocks_no_comparison():
    nothing = result(measured=False)
    assert instruments.version_of(nothing) is None
    assert instruments.comparable(nothing, result(version=1))


def test_results_of_different_methods_are_not_comparable(monkeypatch):
    new = instruments.Instrument(4, "abc1234", "2026-12-08", 2, "a new way to time")
    monkeypatch.setattr(instruments, "BY_VERSION", {**instruments.BY_VERSION, 4: new})
    assert instruments.comparable(result(version=3), result(version=1))
    assert not instruments.comparable(result(version=4), result(version=3))


def test_the_versions_are_in_order_and_the_current_one_is_the_last():
    versions = [i.version for i in instruments.INSTRUMENTS]
    assert versions == sorted(set(versions)) and instruments.CURRENT is instruments.INSTRUMENTS[-1]
    assert [r["current"] for r in instruments.rows()].count(True) == 1


def test_every_committed_result_is_placed():
    """Every committed result that measured anything has a known instrument."""
    placed = [instruments.version_of(json.loads(p.read_text()))
              for p in sorted((ROOT / "site_data").glob("results/*/*/*.json"))]
    assert placed and all(v in instruments.BY_VERSION for v in placed if v is not None)
