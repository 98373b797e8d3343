"""Unit tier: the GPU profile's budget (the 5 ms rule, sourced peaks), the profile
names kept in one list, nvidia-smi parsing, and `run-suite`'s orchestration with
real child processes on the test-only workload (rounds, the budget, cells whose
framework is missing). The whole-suite rehearsal is in test_workflow.py."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from helpers import FIXTURES, ROOT, WORKLOADS

from pipeline.contract import PROFILES
from pipeline.core import config as config_mod
from pipeline.core import references, results
from pipeline.core.registry import Workload, WorkloadError, load_workload
from pipeline.measure import budget, hardware

FAULTY = FIXTURES / "faulty"


def test_profile_names_are_one_list():
    workload_schema = json.loads((ROOT / "pipeline/core/schemas/workload.schema.json").read_text())
    result_schema = json.loads((ROOT / "pipeline/core/schemas/result.schema.json").read_text())
    config_schema = yaml.safe_load((ROOT / "config/config.schema.yaml").read_text())
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    assert tuple(workload_schema["properties"]["profiles"]["required"]) == PROFILES
    assert tuple(result_schema["properties"]["profile"]["enum"]) == PROFILES
    assert tuple(config_schema["properties"]["profile"]["enum"]) == PROFILES
    assert tuple(config["processes"]) == PROFILES and tuple(config["import_runs"]) == PROFILES
    assert tuple(config_mod.IMPORT_RUNS) == PROFILES
    for name, workload in WORKLOADS.items():
        assert tuple(workload.spec["profiles"]) == PROFILES, name


def test_the_gpu_profile_has_three_processes_per_cell():
    assert config_mod.load(overrides={"profile": "gpu"})["processes"]["gpu"] >= 3


def test_every_figure_of_the_peaks_table_has_a_source_and_a_date(tmp_path):
    table = references.load_accelerators()
    h200 = table["nvidia-h200"]
    assert references.peaks(h200) == {"fp32": 66.9e12, "bf16": 989.0e12}
    for figure in h200["figures"].values():
        assert figure["source"].startswith("https://") and figure["read"] == "2026-12-01"
    doc = yaml.safe_load(references.ACCELERATORS_PATH.read_text())
    del doc["accelerators"]["nvidia-h200"]["figures"]["bf16_flops"]["source"]
    bad = tmp_path / "accelerators.yaml"
    bad.write_text(yaml.safe_dump(doc))
    with pytest.raises(references.AcceleratorError,
                       match=r"accelerators.yaml: field accelerators.nvidia-h200.figures.bf16_flops: "
                             r"'source' is a required property"):
        references.load_accelerators(bad)


def gpu_rows() -> dict[str, dict]:
    cfg = config_mod.load(overrides={"profile": "gpu", "measure": False, "frameworks": ["torch", "jax", "keras"],
                                     "modes": {"keras": ["jax", "torch"]}})
    cells = config_mod.check(cfg)
    rows = budget.plan(WORKLOADS, cells, "gpu", 3, references.load_accelerators()["nvidia-h200"])
    return {r["workload"]: r for r in rows}


def test_the_gpu_profile_meets_the_5ms_rule_for_every_workload():
    """Built at the gpu sizes (so make_problem accepts them), every timed step and
    throughput sample would take 5 ms or more even at the H200's published peak."""
    rows = gpu_rows()
    assert set(rows) == set(WORKLOADS)
    for name, row in rows.items():
        assert row["meets_5ms"], (name, row["shortest_ms"])
        assert row["shortest_ms"] >= 5.0 and row["timed_items"] >= 1, name
    # the cells the H200 image can run: torch x 2, jax, and Keras on JAX and PyTorch
    assert rows["cnn_cifar"]["cells"] == 5 and rows["matmul"]["cells"] == 3


def test_a_profile_below_the_rule_is_reported(tmp_path):
    workload = WORKLOADS["mlp_digits"]
    spec = json.loads(json.dumps(workload.spec))
    spec["profiles"]["gpu"]["size"]["hidden"] = 64
    small = Workload(name=workload.name, folder=workload.folder, spec=spec)
    h200 = references.load_accelerators()["nvidia-h200"]
    row = budget.workload_row(small, "gpu", 1, 3, references.peaks(h200))
    assert not row["meets_5ms"] and row["shortest_ms"] < 0.1


def test_a_size_make_problem_refuses_is_named_with_its_field():
    workload = WORKLOADS["inference_latency"]
    spec = json.loads(json.dumps(workload.spec))
    spec["profiles"]["gpu"]["size"]["batch"] = 4096  # more than the held-out examples
    with pytest.raises(WorkloadError, match=r"inference_latency/workload.yaml: field profiles.gpu.size: "
                                            r"make_problem\(\) refused it: .*fewer than the served batch 4096"):
        budget.items(Workload(name=workload.name, folder=workload.folder, spec=spec), "gpu")


def test_budget_adds_the_measured_overheads_of_a_log():
    log = {"processes": [
        {"workload": "matmul", "framework": "torch", "mode": "eager", "index": 0, "duration_s": 10.0},
        {"workload": "matmul", "framework": "torch", "mode": "eager", "index": 1, "duration_s": 4.0},
        {"workload": "matmul", "framework": "torch", "mode": "eager", "index": 2, "duration_s": 6.0},
    ]}
    cells = [config_mod.Cell("matmul", "torch", "eager")]
    h200 = references.load_accelerators()["nvidia-h200"]
    (row,) = budget.plan({"matmul": WORKLOADS["matmul"]}, cells, "gpu", 3, h200, log)
    assert row["overhead_s"] == pytest.approx(10.0 + 2 * 5.0)
    assert row["estimate_s"] == pytest.approx(row["overhead_s"] + row["compute_s"])
    assert "| matmul | 1 | 3 |" in budget.table([row], h200, 420)


def test_nvidia_smi_rows_keep_clocks_where_readable():
    gpus = hardware.parse_gpu_query("NVIDIA H200, 143771, 580.159.03, 345, 1980, [N/A], 3201, 700.00\n", "13.0")
    assert gpus == [{"kind": "cuda", "name": "NVIDIA H200", "memory_mib": 143771, "driver": "580.159.03",
                     "cuda_driver_version": "13.0", "sm_clock_mhz": 345.0, "sm_clock_max_mhz": 1980.0,
                     "memory_clock_mhz": None, "memory_clock_max_mhz": 3201.0, "power_limit_w": 700.0}]
    assert hardware.parse_gpu_query("NVIDIA H200, 143771, 580.159.03\n", None)[0]["name"] == "NVIDIA H200"


# -- run-suite with real child processes ---------------------------------------------


@pytest.fixture
def fixture_suite(tmp_path, monkeypatch):
    """A Suite over the test-only workload: torch eager measured, TensorFlow 'missing'."""
    pytest.importorskip("torch")
    from pipeline.measure import suite

    folder = tmp_path / "faulty"
    shutil.copytree(FAULTY, folder)
    workload = load_workload(folder)
    monkeypatch.setattr(suite, "missing", lambda fw, mode: "tensorflow" if fw == "tensorflow" else None)
    monkeypatch.setattr(suite, "detect", lambda: {"machine_id": hardware.machine_id(), "fake": True})

    def make(processes: int, budget_s=None):
        cfg = config_mod.load(overrides={
            "profile": "smoke", "frameworks": ["torch", "tensorflow"], "modes": {"torch": ["eager"]},
            "processes": {p: processes for p in PROFILES}, "threads": 1, "timeout_s": 120})
        return suite.Suite(cfg, tmp_path / "out", budget_s=budget_s, timer_check=False, echo=lambda line: None,
                           workloads={"faulty": workload})

    return make


@pytest.mark.alone  # real measured processes
def test_run_suite_measures_in_rounds_and_records_missing_frameworks(fixture_suite):
    run = fixture_suite(processes=2)
    log = run.run()
    out, machine = run.out, run.machine
    stored, refused = results.load_all(out)
    assert refused == []
    by_cell = {f"{r['framework']}-{r['mode']}": r for r in stored}
    assert set(by_cell) == {"torch-eager", "tensorflow-eager", "tensorflow-function", "tensorflow-xla"}
    ok = by_cell["torch-eager"]
    assert ok["status"] == "ok" and [p["index"] for p in ok["processes"]] == [0, 1]
    assert ok["metrics"]["train_throughput"]["summary"]["n"] == 6
    for proc in ok["processes"]:
        assert proc["started_at"] <= proc["ended_at"] and proc["compile_cache"].startswith(("cold", "warm"))
    for name in ("tensorflow-eager", "tensorflow-function", "tensorflow-xla"):
        assert by_cell[name]["status"] == "unsupported"
        assert by_cell[name]["reason"] == "tensorflow is not installed on this machine"
    assert [(p["mode"], p["index"]) for p in log["processes"]] == [("eager", 0), ("eager", 1)]
    assert len(log["not_installed"]) == 3 and log["skipped"] == []
    assert json.loads((out / "runs" / f"{machine}-smoke.json").read_text())["wall_s"] > 0
    assert json.loads((out / "machines" / f"{machine}.json").read_text())["fake"] is True


@pytest.mark.alone  # real measured processes
def test_run_suite_starts_nothing_once_its_budget_is_spent(fixture_suite):
    run = fixture_suite(processes=3, budget_s=0)
    log = run.run()
    assert log["processes"] == []
    assert [(s["mode"], s["index"]) for s in log["skipped"]] == [("eager", 0), ("eager", 1), ("eager", 2)]
    assert all("budget of 0 s spent" in s["reason"] for s in log["skipped"])
    from pipeline.measure.suite import summary

    assert "3 process(es) skipped" in summary(log)
    # the missing framework's cells are still recorded; the skipped cell has no file
    assert not results.result_path(run.out, run.machine, "faulty", "torch", "eager", "smoke").exists()
    assert results.result_path(run.out, run.machine, "faulty", "tensorflow", "eager", "smoke").is_file()
