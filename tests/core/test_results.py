"""Unit tier: result files (pipeline/core/results.py): written atomically, read back, and
believed only when their values can be true; each bad file or value is refused naming the
file and the field."""

from __future__ import annotations

import json

import pytest
from helpers import ROOT, TEST_MACHINE, contended, make_result, store, tampered

from pipeline.core import results
from pipeline.core.metrics import combine


def test_roundtrip(tmp_path):
    path = store(tmp_path, make_result())
    assert results.load(path)["metrics"]["train_throughput"]["summary"]["median"] == 102.0
    assert not list(path.parent.glob(".*.tmp")), "no temporary file left behind"


def test_corrupt_json_names_the_path(tmp_path):
    path = store(tmp_path, make_result())
    path.write_text('{"schema_version": 1, "workl')
    with pytest.raises(results.ResultError, match=rf"{path}: not a readable JSON result"):
        results.load(path)


def test_schema_violation_names_the_field(tmp_path):
    bad = make_result()
    bad["status"] = "great"
    path = results.result_path(tmp_path, TEST_MACHINE, "mlp_digits", "torch", "eager")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(bad))
    with pytest.raises(results.ResultError, match=rf"{path}: field status: 'great' is not one of"):
        results.load(path)


def test_foreign_file_in_the_wrong_place_is_refused(tmp_path):
    result = make_result(framework="jax", mode="jit")
    path = results.result_path(tmp_path, TEST_MACHINE, "mlp_digits", "torch", "eager")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(result))
    with pytest.raises(results.ResultError, match="the file says test-machine-2c/mlp_digits/jax-jit"):
        results.load(path)


def test_ok_result_needs_metrics(tmp_path):
    bad = make_result()
    bad["metrics"] = {}
    with pytest.raises(results.ResultError, match="field metrics"):
        results.validate(bad, "x.json")


def test_write_atomic_keeps_the_old_file_when_serialisation_fails(tmp_path):
    path = store(tmp_path, make_result())
    before = path.read_text()
    with pytest.raises(ValueError):
        results.write_atomic(path, {"x": float("nan")})  # NaN is not JSON
    assert path.read_text() == before
    assert not list(path.parent.glob(".*.tmp"))


def test_groups_that_do_not_add_up_are_refused_with_the_field():
    result = make_result(samples=(1.0, 2.0, 3.0))
    result["metrics"]["train_throughput"]["groups"] = [2, 2]
    with pytest.raises(results.ResultError, match=r"x.json: field metrics.train_throughput.groups: \[2, 2\] add up"):
        results.check_values(result, "x.json")


def test_failed_results_are_to_dos(tmp_path):
    ok = store(tmp_path, make_result())
    unsupported = store(tmp_path, make_result("jax", "jit", status="unsupported"))
    crashed = store(tmp_path, make_result("tensorflow", "xla", status="crashed"))
    assert not results.failed(ok) and not results.failed(unsupported)
    assert results.failed(crashed)
    assert not results.failed(tmp_path / "missing.json")


def test_a_failing_write_keeps_the_previous_result(tmp_path, monkeypatch):
    """A full disk (ENOSPC) while a result is rewritten: the stored one is untouched
    and no partial file is left beside it."""
    import errno
    import os

    path = results.result_path(tmp_path, TEST_MACHINE, "mlp_digits", "torch", "eager")
    results.write_atomic(path, make_result())
    before = path.read_bytes()

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space left"):
        results.write_atomic(path, make_result(samples=(9.0, 9.0, 9.0)))
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_a_cells_result_file_is_never_a_snakemake_output():
    """Snakemake deletes a job's outputs before it runs and after it fails; the
    measuring rules declare stamps and write the result in place, so a stored
    result survives a failed or interrupted re-measurement."""
    text = (ROOT / "rules" / "measure.smk").read_text()
    cell_rule = text.split("rule cell:", 1)[1]
    output = cell_rule.split("output:", 1)[1].split("params:", 1)[0]
    assert "build/cells/" in output and "touch(" in output and "results" not in output


def test_each_group_of_samples_keeps_its_process_index():
    """With process 1 left out (contended), process 2's samples are still process 2's,
    so a claim's ratio pairs them with the other side's process 2."""
    from pipeline.publish.tables import sample_rows

    a = make_result(samples=(1.0, 2.0, 3.0))
    b = contended(make_result(samples=(40.0, 50.0, 60.0)), 1, "contended in all 3 attempts")
    c = make_result(samples=(7.0, 8.0, 9.0))
    c["processes"][0]["index"] = 2
    merged = combine([c, b, a])
    assert merged["metrics"]["train_throughput"]["processes"] == [0, 2]
    assert merged["metrics"]["accuracy"]["processes"] == [0, 2]
    results.check_values(merged, "x.json")
    owners = {(r["metric"], r["value"]): r["process"] for r in sample_rows(merged)}
    assert owners["train_throughput", 8.0] == 2 and owners["train_throughput", 2.0] == 0
    merged["metrics"]["train_throughput"]["processes"] = [0, 1, 2]
    with pytest.raises(results.ResultError, match=r"x.json: field metrics.train_throughput.processes: 3 process"):
        results.check_values(merged, "x.json")
    # stored before the indices were recorded: known only when every process gave a group
    del merged["metrics"]["train_throughput"]["processes"]
    assert {r["process"] for r in sample_rows(merged) if r["metric"] == "train_throughput"} == {None}


def thr(r):
    return r["metrics"]["train_throughput"]


@pytest.mark.parametrize("change, field, message", [
    (lambda r: thr(r)["summary"].update(median=float("nan")), "metrics.train_throughput.summary.median",
     "does not match"),
    (lambda r: thr(r)["summary"].update(median="fast"), "metrics.train_throughput.summary.median", "does not match"),
    (lambda r: thr(r)["summary"].pop("cv"), "metrics.train_throughput.summary.cv", "does not match"),
    (lambda r: thr(r).update(value=float("inf")), "metrics.train_throughput.value", "not a finite number"),
    (lambda r: thr(r)["samples"].__setitem__(0, -5.0), "metrics.train_throughput.samples.0", "outside (0, 1e+18]"),
    (lambda r: thr(r)["samples"].__setitem__(0, 1e308), "metrics.train_throughput.samples.0", "outside"),
    (lambda r: r["metrics"]["accuracy"].update(value=7.5, per_process=[7.5]), "metrics.accuracy.per_process.0",
     "outside [0, 1]"),
    (lambda r: thr(r)["samples"].__setitem__(3, thr(r)["samples"][3] * 3), "metrics.train_throughput.summary",
     "does not match"),
    (lambda r: thr(r).update(value=thr(r)["value"] * 2), "metrics.train_throughput.value",
     "is not the median of its samples"),
])
def test_an_impossible_value_is_refused_with_file_and_field(change, field, message):
    with pytest.raises(results.ResultError) as err:
        results.check_values(tampered(change), "some/result.json")
    text = str(err.value)
    assert text.startswith(f"some/result.json: field {field}") and message in text, text


def test_every_committed_result_passes():
    found, refused = results.load_all(ROOT / "site_data")
    assert refused == [] and len(found) >= 40
