"""Unit tier: `python -m pipeline verify`, the check a results pull request goes
through. It passes every committed result and names the file and field of each
kind of bad one: a tampered sample, a summary its samples do not give, a source file
that is not the recorded commit's, losses that diverge from the machine's reference
cell, training FLOP/s above the machine's measured ceiling, and fewer processes than
the profile declares."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest
from helpers import DECLARED, ROOT, WORKLOADS

from pipeline.publish import verify

MACHINE = next((ROOT / "site_data" / "results").glob("*/mlp_digits/jax-jit.json")).parent.parent.name


@pytest.fixture
def data(tmp_path):
    shutil.copytree(ROOT / "site_data" / "results", tmp_path / "results")
    return tmp_path


def cell(data, workload: str, stem: str):
    return data / "results" / MACHINE / workload / f"{stem}.json"


def edit(path, change) -> None:
    result = json.loads(path.read_text())
    change(result)
    path.write_text(json.dumps(result))


def findings_for(data, path) -> list[str]:
    found, _ = verify.verify([path], data, WORKLOADS, DECLARED)
    return found


def test_every_committed_result_verifies():
    files = sorted((ROOT / "site_data" / "results").glob("*/*/*.json"))
    found, notes = verify.verify(files, ROOT / "site_data", WORKLOADS, DECLARED)
    assert found == [] and len(files) >= 40
    assert verify.main([], ROOT / "site_data", WORKLOADS, DECLARED) == 0


def test_a_tampered_sample_is_found(data):
    path = cell(data, "mlp_digits", "jax-jit")
    edit(path, lambda r: r["metrics"]["train_throughput"]["samples"].__setitem__(0, 1e9))
    (finding,) = findings_for(data, path)
    assert finding.startswith(f"{path}: field metrics.train_throughput.summary.") and "does not match" in finding


def test_a_summary_that_its_samples_do_not_give_is_found(data):
    path = cell(data, "cnn_cifar", "torch-eager")
    edit(path, lambda r: r["metrics"]["train_throughput"]["summary"].update(ci_high=1e7))
    (finding,) = findings_for(data, path)
    assert f"{path}: field metrics.train_throughput.summary.ci_high: 10000000.0 does not match" in finding


def test_a_source_that_is_not_the_recorded_commits_is_named(data):
    path = cell(data, "mlp_digits", "torch-eager")
    edit(path, lambda r: r["provenance"]["source_sha256"].update({"workloads/mlp_digits/torch_impl.py": "0" * 64}))
    (finding,) = findings_for(data, path)
    assert finding.startswith(f"{path}: field provenance.source_sha256.workloads/mlp_digits/torch_impl.py: "
                              f"differs from the file at commit ")
    edit(path, lambda r: r["provenance"]["git"].update(sha="f" * 40))
    assert "is not in this repository" in findings_for(data, path)[0]


def test_losses_that_diverge_from_the_reference_cell_are_found(data):
    losses = [2.3, 2.1, 1.9, 1.8, 1.7]
    for stem in ("torch-eager", "jax-jit"):
        edit(cell(data, "mlp_digits", stem), lambda r: r.update(schema_version=3, evidence={"losses": losses}))
    path = cell(data, "mlp_digits", "jax-jit")
    assert findings_for(data, path) == []
    edit(path, lambda r: r.update(evidence={"losses": [2.3, 2.1, 2.4, 1.8, 1.7]}))
    (finding,) = findings_for(data, path)
    assert finding.startswith(f"{path}: field evidence.losses.2: 2.4 differs from torch-eager's 1.9")
    edit(path, lambda r: r.update(evidence=None))
    assert "field evidence: missing" in findings_for(data, path)[0]


def test_case_outputs_that_diverge_from_the_reference_cell_are_found(data):
    sample = {"size": 4, "indices": [0, 1, 2, 3], "values": [1.0, 2.0, 3.0, 4.0], "scale": 4.0}
    for stem in ("torch-eager", "jax-jit"):
        edit(cell(data, "matmul", stem), lambda r: r.update(schema_version=3, evidence={"cases": {"fp32_256": sample}}))
    path = cell(data, "matmul", "jax-jit")
    assert findings_for(data, path) == []
    edit(path, lambda r: r["evidence"]["cases"]["fp32_256"].update(values=[1.0, 2.0, 3.5, 4.0]))
    (finding,) = findings_for(data, path)
    assert f"{path}: field evidence.cases.fp32_256: differs from torch-eager's output by 0.125" in finding


def test_flops_above_the_machine_ceiling_are_found(data):
    path = cell(data, "transformer_lm", "jax-jit")

    def inflate(r):
        metric = r["metrics"]["achieved_flops"]
        metric["per_process"] = [v * 1000 for v in metric["per_process"]]
        metric["value"] *= 1000
        metric.pop("summary", None)

    edit(path, inflate)
    (finding,) = findings_for(data, path)
    assert finding.startswith(f"{path}: field metrics.achieved_flops.value: ") and "at most 100%" in finding


def test_a_stderr_tail_naming_a_user_is_refused_by_field(data):
    path = cell(data, "mlp_digits", "jax-jit")

    def leak(result):
        result["stderr_tail"] = "W0000 /home/alice/comparison/.nox/lib/python3.11/site-packages/jax/x.py: slow"
        result["processes"][1]["stderr_tail"] = result["stderr_tail"]

    edit(path, leak)
    found = findings_for(data, path)
    assert [f.split(": holds")[0] for f in found] == [f"{path}: field stderr_tail",
                                                      f"{path}: field processes.1.stderr_tail"]
    assert all("(/home/alice)" in f for f in found)


def test_a_result_with_fewer_processes_than_its_profile_declares_is_named(data):
    """A contributed default-profile result that kept fewer processes than the repository
    declares: named by its field, whatever its own values say."""
    path = cell(data, "mlp_digits", "torch-eager")
    stored = json.loads(path.read_text())
    declared = dict(DECLARED.counts)
    declared[("mlp_digits", "default")] = {**declared[("mlp_digits", "default")],
                                           "processes": len(stored["processes"]) + 1}
    found, _ = verify.verify([path], data, WORKLOADS, dataclasses.replace(DECLARED, counts=declared))
    assert found == [f"{path}: field processes: {len(stored['processes'])} of {len(stored['processes']) + 1} processes"]


def test_an_instrument_this_repository_does_not_know_is_found(data):
    path = cell(data, "mlp_digits", "jax-jit")
    edit(path, lambda r: r["provenance"].update(instrument={"version": 99, "sha256": "0" * 64}))
    (finding,) = findings_for(data, path)
    assert finding.startswith(f"{path}: field provenance.instrument.version: instrument 99 is not")


def test_a_kept_result_verifies_in_its_history_folder_against_its_own_run(tmp_path):
    """History files (``history/<machine>/<run>/<workload>/``) are checked in place, and
    their losses set against their own run's reference cell, not a later run's."""
    kept = sorted((ROOT / "site_data" / "history").glob("*/*/*/*.json"))
    assert kept
    found, _ = verify.verify(kept, ROOT / "site_data", WORKLOADS, DECLARED)
    assert found == []
    moved = tmp_path / "history" / "m" / "20990101T000000Z" / kept[0].parent.name / kept[0].name
    moved.parent.mkdir(parents=True)
    shutil.copyfile(kept[0], moved)
    (finding,) = findings_for(tmp_path, moved)
    assert finding.startswith(f"{moved}: field processes.run_id: the result belongs to run ")


def test_a_machine_description_holding_a_failed_detection_is_found(tmp_path):
    described = json.loads((ROOT / "site_data" / "machines" / f"{MACHINE}.json").read_text())
    path = tmp_path / "machines" / f"{MACHINE}.json"
    path.parent.mkdir()
    path.write_text(json.dumps(described))
    assert verify.machine_findings(path) == ([], [])
    described["frameworks"]["torch"] = {"installed": True, "error": "Traceback ... ModuleNotFoundError"}
    path.write_text(json.dumps(described))
    found, _ = verify.verify([path], tmp_path, WORKLOADS, DECLARED)
    assert found == [f"{path}: field frameworks.torch.error: a failed detection stored as data; run "
                     f"`python -m pipeline detect --out {path}` again on the machine"]
    other = tmp_path / "machines" / "another-machine.json"
    path.rename(other)
    assert any("field machine_id" in f for f in verify.machine_findings(other)[0])
