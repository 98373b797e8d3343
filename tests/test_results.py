"""Unit tier: result files, aggregation of good and bad files, provenance."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import yaml
from conftest import COMPARISON, DECLARED, ROOT, WORKLOADS, declaring

from pipeline import SCHEMA_VERSION
from pipeline.core import freshness, results
from pipeline.core.metrics import combine, sampled
from pipeline.core.registry import WORKLOADS_DIR
from pipeline.measure import hardware, provenance
from pipeline.publish.aggregate import aggregate

MACHINE = "test-machine-2c"


def make_result(framework="torch", mode="eager", status="ok", machine=MACHINE, workload="mlp_digits",
                samples=(100.0, 110.0, 105.0, 98.0, 102.0), processes=1) -> dict:
    ok = status == "ok"
    return {
        "schema_version": SCHEMA_VERSION,
        "workload": workload,
        "framework": framework,
        "mode": mode,
        "profile": "smoke",
        "machine_id": machine,
        "status": status,
        "reason": None if ok else "boom",
        "stderr_tail": "",
        "duration_s": 1.0,
        "device": {"kind": "cpu", "name": "cpu"} if ok else None,
        "timing": {"warmup_steps": 1, "samples": 5, "steps_per_sample": 1, "inference_batch": 8,
                   "flops_per_train_step": 1e6} if ok else None,
        "metrics": {
            "train_throughput": sampled("samples/s", list(samples)),
            "time_to_first_step": {"unit": "s", "value": 0.5, "per_process": [0.5] * processes},
            "accuracy": {"unit": "fraction", "value": 0.9, "per_process": [0.9] * processes},
        } if ok else {},
        "processes": [{"index": i, "status": status, "reason": None if ok else "boom", "duration_s": 1.0,
                       "stderr_tail": "", "samples": len(samples) // processes} for i in range(processes)],
        "knobs": {"threads": 2},
        "provenance": {
            "recorded_at": "2026-11-21T00:00:00+00:00",
            "python": "3.11.7",
            "hardware": {"machine_id": machine, "cpu_model": "Test CPU"},
            "versions": {"torch": "2.13.0"},
            "git": {"sha": "abc", "dirty": False},
            "source_sha256": {},
        },
    }


def store(data_dir: Path, result: dict) -> Path:
    path = results.result_path(data_dir, result["machine_id"], result["workload"], result["framework"], result["mode"],
                               result["profile"])
    results.write_atomic(path, result)
    return path


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
    path = results.result_path(tmp_path, MACHINE, "mlp_digits", "torch", "eager")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(bad))
    with pytest.raises(results.ResultError, match=rf"{path}: field status: 'great' is not one of"):
        results.load(path)


def test_foreign_file_in_the_wrong_place_is_refused(tmp_path):
    result = make_result(framework="jax", mode="jit")
    path = results.result_path(tmp_path, MACHINE, "mlp_digits", "torch", "eager")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(result))
    with pytest.raises(results.ResultError, match="the file says test-machine-2c/mlp_digits/jax-jit"):
        results.load(path)


def test_ok_result_needs_metrics(tmp_path):
    bad = make_result()
    bad["metrics"] = {}
    with pytest.raises(results.ResultError, match="field metrics"):
        results.validate(bad, "x.json")


def test_aggregate_keeps_good_results_and_lists_refused(tmp_path):
    store(tmp_path, make_result("torch", "eager"))
    store(tmp_path, make_result("jax", "jit", machine="other-gpu-machine"))
    store(tmp_path, make_result("tensorflow", "xla", status="crashed"))
    corrupt = results.result_path(tmp_path, MACHINE, "mlp_digits", "tensorflow", "eager", "smoke")
    corrupt.write_text("not json")
    cells, refused = aggregate(tmp_path, tmp_path / "tables", ["smoke"], COMPARISON, DECLARED, WORKLOADS)
    assert len(cells) == 3
    # a failed cell is never complete, whatever it holds
    assert not cells.loc[cells["status"] != "ok", "complete"].any()
    assert "incomplete_reason" in cells
    assert set(cells["status"]) == {"ok", "crashed"}
    assert set(cells["machine_id"]) == {MACHINE, "other-gpu-machine"}
    assert len(refused) == 1 and str(corrupt) in refused[0]
    assert json.loads((tmp_path / "tables" / "refused.json").read_text()) == refused
    assert corrupt.read_text() == "not json", "aggregation never rewrites a result file"


def test_write_atomic_keeps_the_old_file_when_serialisation_fails(tmp_path):
    path = store(tmp_path, make_result())
    before = path.read_text()
    with pytest.raises(ValueError):
        results.write_atomic(path, {"x": float("nan")})  # NaN is not JSON
    assert path.read_text() == before
    assert not list(path.parent.glob(".*.tmp"))


def test_provenance_has_versions_hashes_and_no_hostname():
    files = [WORKLOADS_DIR / "mlp_digits" / "torch_impl.py"]
    block = provenance.collect(files, "smoke")
    assert block["source_sha256"] == {"workloads/mlp_digits/torch_impl.py": freshness.sha256(files[0])}
    assert block["versions"]["numpy"]
    assert set(block["git"]) == {"sha", "dirty"}
    text = json.dumps(block)
    hostname = socket.gethostname()
    if len(hostname) >= 4:
        assert hostname not in text
    assert hostname not in hardware.machine_id()


def test_machine_id_includes_gpus(monkeypatch):
    monkeypatch.setattr(hardware, "cpu_model", lambda: "AMD EPYC 7B13 64-Core Processor")
    monkeypatch.setattr(hardware, "nvidia_gpus", lambda: [{"name": "NVIDIA H100 80GB HBM3"}])
    monkeypatch.setattr(hardware, "tpu_present", lambda: False)
    assert hardware.machine_id().endswith("-nvidia-h100-80gb-hbm3-x1")
    assert hardware.machine_id().startswith("amd-epyc-7b13-64-core-")


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


def contended(result: dict, index: int, reason: str) -> dict:
    """``result`` as the harness records a process that stayed contended."""
    result["status"] = result["processes"][0]["status"] = "contended"
    result["reason"] = result["processes"][0]["reason"] = reason
    result["processes"][0]["index"] = index
    return result


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


def test_groups_that_do_not_add_up_are_refused_with_the_field():
    result = make_result(samples=(1.0, 2.0, 3.0))
    result["metrics"]["train_throughput"]["groups"] = [2, 2]
    with pytest.raises(results.ResultError, match=r"x.json: field metrics.train_throughput.groups: \[2, 2\] add up"):
        results.check_values(result, "x.json")


def test_combine_refuses_different_cells():
    with pytest.raises(ValueError, match="different cells"):
        combine([make_result("torch", "eager"), make_result("jax", "jit")])


def test_complete_result_is_marked_complete(tmp_path):
    from pipeline.publish.tables import build_tables

    declared = {("mlp_digits", "smoke"): {"processes": 2, "samples": 3}}
    full = make_result(samples=(1.0, 2.0, 3.0, 4.0, 5.0, 6.0), processes=2)
    short = make_result("jax", "jit", samples=(1.0, 2.0, 3.0), processes=1)
    cells = build_tables([full, short], declaring(declared))["cells"]
    by_mode = cells.set_index("mode")
    assert bool(by_mode.loc["eager", "complete"]) is True
    assert bool(by_mode.loc["jit", "complete"]) is False
    assert by_mode.loc["jit", "incomplete_reason"] == "1 of 2 processes"


def test_a_cell_with_a_contended_process_is_incomplete_and_measured_again(tmp_path):
    from pipeline.publish.tables import build_tables

    a = make_result(samples=(1.0, 2.0, 3.0))
    b = contended(make_result(samples=(1.0, 2.0, 3.0)), 1, "contended in all 3 attempts")
    cell = combine([a, b])
    cells = build_tables([cell], declaring({("mlp_digits", "smoke"): {"processes": 2, "samples": 3}}))
    assert cells["cells"].loc[0, "incomplete_reason"] == "1 of 2 processes (1 contended)"
    path = tmp_path / "torch-eager@smoke.json"
    results.write_atomic(path, cell)
    sources = [Path(name) for name in cell["provenance"]["source_sha256"]]
    state = freshness.cell_state(path, sources, "smoke", 2, 2)
    assert not state.current and state.reason == "stored result has 1 contended process(es)"


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

    path = results.result_path(tmp_path, MACHINE, "mlp_digits", "torch", "eager")
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


def test_a_description_edit_keeps_workload_yaml_s_digest_and_a_size_edit_changes_it():
    text = (WORKLOADS_DIR / "mlp_digits" / "workload.yaml").read_text()
    spec = yaml.safe_load(text)
    digest = freshness.declaration_digest(text.encode(), "default")

    def edited(change) -> str:
        copy = yaml.safe_load(text)
        change(copy)
        return freshness.declaration_digest(yaml.safe_dump(copy).encode(), "default")

    # what only pages and tests read
    assert edited(lambda s: s.update(description="Reworded, at length, for readers.")) == digest
    assert edited(lambda s: s.update(title="Another title", metrics=["train_throughput"])) == digest
    assert edited(lambda s: s["tolerance"].update(loss_rtol=0.5, reason="a stated reason")) == digest
    assert edited(lambda s: s["profiles"]["gpu"]["size"].update(hidden=3)) == digest  # another profile
    # what a measurement of the default profile reads
    assert edited(lambda s: s["profiles"]["default"]["timing"].update(samples=3)) != digest
    assert edited(lambda s: s["tolerance"].update(equivalence_steps=9)) != digest
    assert edited(lambda s: s.update(precisions=["fp32", "bf16"])) != digest
    assert spec["profiles"]["default"]  # the file itself parses as a workload
