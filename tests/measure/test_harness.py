"""Unit tier, with real child processes: whatever a cell does, exactly one result
is recorded with the right status, and nothing else is touched."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest
import yaml
from helpers import FIXTURES, ROOT, ctrl_c_as_in_a_terminal, worker_under

from pipeline.core import quiet, results
from pipeline.core.registry import load_workload
from pipeline.measure.harness import merge_files, run_cell

#: the harness measures, and judges contention from what else runs
pytestmark = pytest.mark.alone
pytest.importorskip("torch")
FIXTURE = FIXTURES / "faulty"


def faulty(tmp_path: Path, behaviour: str):
    folder = tmp_path / "faulty"
    shutil.copytree(FIXTURE, folder)
    spec = yaml.safe_load((folder / "workload.yaml").read_text())
    spec["profiles"]["smoke"]["size"]["behaviour"] = behaviour
    (folder / "workload.yaml").write_text(yaml.safe_dump(spec))
    return load_workload(folder)


@pytest.fixture
def scratch(tmp_path, monkeypatch) -> Path:
    """This test's own temporary folder (TMPDIR), to see what a measured process leaves in it."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", None)
    return folder


@pytest.mark.parametrize(
    "behaviour, status, reason",
    [
        ("ok", "ok", None),
        ("unsupported", "unsupported", "only runs eagerly"),
        ("crash", "crashed", "deliberate crash in train_step"),
        ("nan", "non-finite", "loss became nan"),
        ("oom", "out-of-memory", "ran out of memory"),
        ("killed", "killed", "killed by signal 9 (SIGKILL) from outside the harness"),
        ("hang", "timeout", "no result after 20 s"),
        ("hog", "out-of-memory", "over the limit of 1,500 MiB"),
    ],
)
def test_every_outcome_is_recorded(tmp_path, scratch, behaviour, status, reason):
    out = tmp_path / "data" / "results" / "m" / "faulty" / "torch-eager.json"
    neighbour = out.with_name("jax-jit.json")
    neighbour.parent.mkdir(parents=True)
    neighbour.write_text("left alone")
    # only the hang waits for its timeout; the others get ample time for a slow torch import
    result = run_cell(faulty(tmp_path, behaviour), "torch", "eager", "smoke", out, device="cpu", threads=1,
                      timeout_s=20 if behaviour == "hang" else 600, memory_limit_mb=1500)
    assert result["status"] == status, result["stderr_tail"]
    if reason:
        assert reason in result["reason"]
    stored = json.loads(out.read_text())
    results.validate(stored, str(out))
    assert stored["status"] == status
    assert neighbour.read_text() == "left alone"
    # whatever became of the process, its temporary files (a compile cache each) went with it
    assert not list(scratch.iterdir())
    if status == "ok":
        assert stored["metrics"]["train_throughput"]["summary"]["n"] == 3
        assert stored["knobs"]["threads"] == 1 and stored["knobs"]["cpu_affinity"]
        assert stored["provenance"]["source_sha256"]
    if status == "crashed":
        assert "Traceback" in stored["stderr_tail"]


def test_unsupported_mode_is_not_a_failure(tmp_path):
    out = tmp_path / "results" / "m" / "faulty" / "torch-compile.json"
    result = run_cell(faulty(tmp_path, "ok"), "torch", "compile", "smoke", out, device="cpu", threads=1,
                      timeout_s=600)
    assert result["status"] == "unsupported"


def test_processes_are_pooled_and_recorded(tmp_path):
    out = tmp_path / "results" / "m" / "faulty" / "torch-eager.json"
    result = run_cell(faulty(tmp_path, "ok"), "torch", "eager", "smoke", out, processes=2, device="cpu",
                      threads=1, timeout_s=600)
    assert result["status"] == "ok"
    assert [p["index"] for p in result["processes"]] == [0, 1]
    assert result["metrics"]["train_throughput"]["summary"]["n"] == 6
    assert len(result["metrics"]["time_to_first_step"]["per_process"]) == 2
    assert result["metrics"]["recompilations_steady_state"]["value"] == 0


def test_separate_process_files_merge_into_the_cell(tmp_path):
    workload = faulty(tmp_path, "ok")
    parts = []
    for index in (0, 1):
        part = tmp_path / f"{index}.json"
        run_cell(workload, "torch", "eager", "smoke", part, first_index=index, device="cpu", threads=1)
        parts.append(part)
    out = tmp_path / "results" / "m" / "faulty" / "torch-eager.json"
    merged = merge_files(parts, out)
    assert [p["index"] for p in merged["processes"]] == [0, 1]
    assert json.loads(out.read_text())["metrics"]["train_throughput"]["summary"]["n"] == 6


def _gone(proc: psutil.Process, deadline_s: float = 30) -> bool:
    try:
        proc.wait(timeout=deadline_s)
        return True
    except psutil.TimeoutExpired:
        return False
    except psutil.NoSuchProcess:
        return True


@pytest.mark.parametrize("how", ["SIGINT to the process group", "SIGTERM to the harness", "SIGKILL to the harness"])
def test_a_stopped_harness_leaves_no_worker_behind(tmp_path, how):
    """The worker runs in a session of its own; stopping the harness any of these
    ways must still stop it (Ctrl-C, a polite kill, a hard kill of the parent)."""
    import signal
    import subprocess
    import sys

    folder = faulty(tmp_path, "hang").folder
    out = tmp_path / "hang.json"
    harness = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "run", "--workload", folder.name, "--workloads-dir", str(folder.parent),
         "--framework", "torch", "--mode", "eager", "--profile", "smoke", "--device", "cpu", "--threads", "1",
         "--timeout", "600", "--out", str(out)],
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=ctrl_c_as_in_a_terminal)
    try:
        worker = worker_under(psutil.Process(harness.pid))
        if how.startswith("SIGINT"):
            os.killpg(harness.pid, signal.SIGINT)
        else:
            os.kill(harness.pid, signal.SIGTERM if how.startswith("SIGTERM") else signal.SIGKILL)
        harness.wait(timeout=60)
        assert _gone(worker), f"the worker outlived its harness ({how})"
        assert not out.exists()
    finally:
        if harness.poll() is None:
            harness.kill()


@pytest.fixture
def cpu_hog():
    """Another program keeping one core busy for as long as the test runs."""
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    time.sleep(0.5)
    yield hog
    hog.kill()
    hog.wait()


def test_a_process_beside_a_cpu_hog_is_rerun_then_recorded_contended(tmp_path, cpu_hog):
    out = tmp_path / "results" / "m" / "faulty" / "torch-eager.json"
    result = run_cell(faulty(tmp_path, "busy"), "torch", "eager", "smoke", out, device="cpu", threads=1,
                      timeout_s=600, reruns=1)
    (process,) = result["processes"]
    assert process["status"] == "contended" and result["status"] == "contended", process["reason"]
    assert len(process["attempts"]) == 2, "one run and one re-run"
    for attempt in process["attempts"]:
        assert attempt["interference"]["outside_cores"] > quiet.OUTSIDE_CORES_LIMIT
        assert "other work used" in attempt["contended"]
    assert result["metrics"] == {}, "a contended process is left out of the figures"
    assert "contended in all 2 attempts" in result["reason"]
    results.validate(json.loads(out.read_text()), str(out))


def test_a_quiet_process_records_what_else_ran_and_its_canary(tmp_path):
    out = tmp_path / "results" / "m" / "faulty" / "torch-eager.json"
    result = run_cell(faulty(tmp_path, "busy"), "torch", "eager", "smoke", out, device="cpu", threads=1,
                      timeout_s=600, run_id="test-run")
    (process,) = result["processes"]
    assert result["status"] == "ok", process["attempts"]
    assert process["run_id"] == "test-run" and len(process["attempts"]) == 1
    busy = process["interference"]
    assert busy["outside_cores"] <= quiet.OUTSIDE_CORES_LIMIT
    # read over the timed samples (one run of them per timed loop), not the whole process
    assert busy["stretches"] >= 1 and 0.5 < busy["window_s"] < process["duration_s"]
    # the busy step keeps one core of the apparatus working, and that is not counted as other work
    assert busy["outside_cpu_s"] < busy["window_s"] / 2
    # what started the worker (here the test's own process, as the harness) is recorded apart
    assert 0 <= busy["apparatus_cores"] < 1
    for reading in ("before", "after"):
        assert process["canary"][reading]["blas_s"] > 0 and process["canary"][reading]["python_s"] > 0


def _ranks() -> list[psutil.Process]:
    """Rank processes of the data_parallel workload's PyTorch file still alive."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if any("data_parallel/torch_impl.py" in part for part in proc.info["cmdline"] or []):
            found.append(proc)
    return found


def test_data_parallel_ranks_end_with_their_cell(tmp_path, scratch):
    """PyTorch's ranks above 0 are processes of their own: they stop when the cell ends,
    and when its measured process is killed from outside they stop too, instead of
    waiting in a collective for a rank 0 that is gone."""
    import signal

    workload = load_workload(ROOT / "workloads" / "data_parallel")
    result = run_cell(workload, "torch", "eager", "smoke", tmp_path / "ok.json", threads=1, timeout_s=600,
                      reruns=0)
    # finished either way: contended only says the machine was busy meanwhile
    assert result["status"] in ("ok", "contended"), result["reason"]
    assert not _ranks(), f"ranks left after a finished cell: {[p.cmdline() for p in _ranks()]}"
    assert not list(scratch.iterdir()), "the ranks' rendezvous store outlived the cell"

    harness = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "run", "--workload", "data_parallel", "--framework", "torch",
         "--mode", "eager", "--profile", "smoke", "--device", "cpu", "--threads", "1", "--timeout", "600",
         "--out", str(tmp_path / "killed.json")],
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        worker = worker_under(psutil.Process(harness.pid))
        deadline = time.monotonic() + 120
        while not _ranks() and time.monotonic() < deadline:
            time.sleep(0.2)
        ranks = _ranks()
        assert ranks, "rank 1 never started"
        worker.send_signal(signal.SIGKILL)
        for rank in ranks:
            assert _gone(rank, 30), f"rank {rank.pid} outlived its killed rank 0"
        harness.wait(timeout=60)
        recorded = json.loads((tmp_path / "killed.json").read_text())
        assert recorded["status"] == "killed", recorded["reason"]
    finally:
        if harness.poll() is None:
            harness.kill()


def test_detect_records_the_devices_every_installed_framework_sees():
    """On this CPU-only machine each framework answers in its own process with an empty
    accelerator list; none is stored with an error in its place."""
    from pipeline.core.frameworks import FRAMEWORKS
    from pipeline.measure.harness import detect

    info = detect()
    for name, fw in FRAMEWORKS.items():
        seen = info["frameworks"][name]
        assert seen["installed"] == fw.installed()
        if fw.installed():
            assert "error" not in seen and seen["accelerators"] == [], (name, seen)
    # Keras is asked on each backend it can run on here
    assert set(info["frameworks"]["keras"]["backends"]) == {"tensorflow", "jax", "torch"}
    assert all(found == [] for found in info["frameworks"]["keras"]["backends"].values())


def test_keras_is_asked_only_on_the_backends_installed(monkeypatch):
    """A GPU image without TensorFlow: Keras answers on JAX and PyTorch, not failing on TensorFlow."""
    from pipeline.core import frameworks
    from pipeline.measure import harness

    asked = []
    monkeypatch.setattr(harness, "_seen_by", lambda name, env=None: asked.append((name, env)) or [])
    real = frameworks.Framework.installed
    monkeypatch.setattr(frameworks.Framework, "installed", lambda fw: fw.name != "tensorflow" and real(fw))
    info = harness.detect()
    assert info["frameworks"]["tensorflow"] == {"installed": False}
    assert set(info["frameworks"]["keras"]["backends"]) == {"jax", "torch"}
    assert ("keras", {"KERAS_BACKEND": "tensorflow"}) not in asked


def test_a_framework_that_cannot_answer_fails_detection_with_its_reason(monkeypatch, tmp_path, capsys):
    from pipeline import cli
    from pipeline.measure import harness

    failed = subprocess.CompletedProcess([], 1, stdout="", stderr="ModuleNotFoundError: No module named 'x'")
    monkeypatch.setattr(harness.subprocess, "run", lambda *a, **k: failed)
    with pytest.raises(harness.DetectionError, match="asking which devices it sees failed.*No module named 'x'"):
        harness.detect()
    out = tmp_path / "machine.json"
    assert cli.main(["detect", "--out", str(out)]) == 1
    assert not out.exists() and "No module named 'x'" in capsys.readouterr().err


def test_a_stored_stderr_tail_names_no_local_path(tmp_path):
    """A crash's traceback runs through the checkout's files: stored, it reads <checkout>/."""
    from pipeline import REPO_ROOT

    out = tmp_path / "results" / "m" / "faulty" / "torch-eager.json"
    result = run_cell(faulty(tmp_path, "crash"), "torch", "eager", "smoke", out, device="cpu", threads=1,
                      timeout_s=600)
    assert result["status"] == "crashed"
    assert str(REPO_ROOT) not in result["stderr_tail"] and "<checkout>/pipeline/" in result["stderr_tail"]
