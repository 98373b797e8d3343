"""What the tests share besides fixtures (those are in conftest.py): the repository's
root, the committed workloads and config, the cells they make, hand-made results and
the tables rows claims are judged on, copies of the repository and its ledgers, and
the workflow tests' Snakemake command. Import it as ``from helpers import ...``:
pytest puts tests/ on the path, as it loads conftest.py from there."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import psutil
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import SCHEMA_VERSION  # noqa: E402
from pipeline.core import config as config_mod  # noqa: E402
from pipeline.core import results  # noqa: E402
from pipeline.core.config import modes_for  # noqa: E402
from pipeline.core.frameworks import FRAMEWORKS  # noqa: E402
from pipeline.core.metrics import sampled  # noqa: E402
from pipeline.core.references import ACCELERATORS_PATH, MODEL_COSTS_PATH  # noqa: E402
from pipeline.core.registry import discover  # noqa: E402
from pipeline.publish.tables import Declared, declared  # noqa: E402

#: the folder of the files the tests read (recorded responses, the test-only workload, import blockers)
FIXTURES = ROOT / "tests" / "fixtures"

WORKLOADS = discover()
#: the committed config, and what it and the workloads declare, as the commands pass them in
CONFIG = config_mod.load()
COMPARISON = CONFIG["comparison"]
DECLARED = declared(CONFIG, WORKLOADS)


def declaring(counts: dict, ceiling_workloads: tuple = ()) -> Declared:
    """``Declared`` with the given per (workload, profile) counts."""
    return Declared(counts, tuple(ceiling_workloads))


CELLS = [
    (w, fw, mode)
    for w, workload in WORKLOADS.items()
    for fw in FRAMEWORKS if workload.implements(fw)
    for mode in modes_for({"modes": {}}, fw)
]
TRAINING_CELLS = [c for c in CELLS if WORKLOADS[c[0]].is_training]
OPERATION_CELLS = [c for c in CELLS if not WORKLOADS[c[0]].is_training]
BF16_CELLS = [c for c in TRAINING_CELLS if "bf16" in WORKLOADS[c[0]].spec.get("precisions", [])]


def cell_id(cell) -> str:
    return "-".join(cell)


def supported(out: dict, who: str) -> bool:
    """False for a cell whose ``build`` refused its mode (NotImplementedError, recorded as
    unsupported by the harness too), after checking that it said why."""
    if "unsupported" not in out:
        return True
    assert str(out["unsupported"]).strip(), f"{who}: unsupported without a reason"
    return False


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


CI_SKIP = "skipped under CI=true, where every framework, Playwright, Chromium and Slurm must be installed: "

# -- workloads and ledgers copied into a test's folder ----------------------------------


def edit_yaml(folder: Path, change) -> None:
    """Apply ``change`` to the workload.yaml in ``folder`` (a copy of a workload)."""
    path = folder / "workload.yaml"
    spec = yaml.safe_load(path.read_text())
    change(spec)
    path.write_text(yaml.safe_dump(spec))


#: what the claims ledger reads beside itself: the peaks and model costs of its physical bounds
BOUND_TABLES = (ACCELERATORS_PATH.name, MODEL_COSTS_PATH.name)


def copy_ledger(folder: Path, names: tuple[str, ...] = ("claims.yaml",)) -> None:
    """Copy the named site_data files and the tables the ledger's bounds read into ``folder``."""
    for name in (*names, *BOUND_TABLES):
        shutil.copy(ROOT / "site_data" / name, Path(folder) / name)


def copy_workloads(folder: Path, *names: str) -> None:
    """Copy the named workload folders side by side into ``folder`` (one may use another)."""
    for name in names:
        shutil.copytree(ROOT / "workloads" / name, Path(folder) / name, ignore=shutil.ignore_patterns("__pycache__"))


def write_code(folder: Path, text: str, name: str = "impl.py") -> Path:
    """``text``, dedented, as the file ``name`` in ``folder``."""
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def page_environment():
    """The pages' own Jinja environment over the committed templates: every value escaped."""
    from pipeline.publish import escaping

    return escaping.environment(ROOT / "pipeline" / "publish" / "templates")


# -- result files made by hand ------------------------------------------------------------

#: the machine of the hand-made results
TEST_MACHINE = "test-machine-2c"


def make_result(framework="torch", mode="eager", status="ok", machine=TEST_MACHINE, workload="mlp_digits",
                samples=(100.0, 110.0, 105.0, 98.0, 102.0), processes=1) -> dict:
    """A valid result of a smoke-sized training cell, ``processes`` processes sharing the samples."""
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
    """Write ``result`` where the pipeline keeps it under ``data_dir``."""
    path = results.result_path(data_dir, result["machine_id"], result["workload"], result["framework"], result["mode"],
                               result["profile"])
    results.write_atomic(path, result)
    return path


def contended(result: dict, index: int, reason: str) -> dict:
    """``result`` as the harness records a process that stayed contended."""
    result["status"] = result["processes"][0]["status"] = "contended"
    result["reason"] = result["processes"][0]["reason"] = reason
    result["processes"][0]["index"] = index
    return result


def bare_result(framework, mode, status="ok", facts=None, processes=()) -> dict:
    """Only what the facts and measuring-time tables read of a result."""
    return {"machine_id": "m", "workload": "w", "framework": framework, "mode": mode, "profile": "default",
            "status": status, "facts": facts or {}, "processes": list(processes)}


def committed_result() -> Path:
    """A committed result (mlp_digits on JAX), for the tests that tamper with one."""
    return next((ROOT / "site_data" / "results").glob("*/mlp_digits/jax-jit.json"))


def tampered(change) -> dict:
    """The committed result with ``change`` applied."""
    result = json.loads(committed_result().read_text())
    change(result)
    return result


# -- the tables claims and the guide are judged on, made by hand ----------------------------


def one_claim(pred, cid="c1") -> dict:
    """A ledger of one source and one claim with the predicate ``pred``."""
    return {"sources": [{"id": "s1", "title": "An article", "file": "f", "read": "2026-11-22"}],
            "claims": [{"id": cid, "source": "s1", "claim": "a claim in our words", "predicate": pred}]}


def cells_row(machine, workload, framework, mode, value, kind="cpu", status="ok", first=1.0, low=None, high=None):
    """A row of the cells table: a training cell's throughput and its interval."""
    fw = FRAMEWORKS[framework]
    return {"machine_id": machine, "workload": workload, "framework": framework, "mode": mode,
            "cell": f"{fw.label} {fw.mode_labels[mode]}", "status": status, "device_kind": kind,
            "device_name": "x", "train_throughput.median": value if status == "ok" else None,
            "train_throughput.ci_low": low if low is not None else value,
            "train_throughput.ci_high": high if high is not None else value,
            "time_to_first_step": first, "unit": "samples"}


def cases_row(machine, workload, framework, mode, case, time, status="ok"):
    """A row of the cases table: one case of an operations cell."""
    fw = FRAMEWORKS[framework]
    return {"machine_id": machine, "workload": workload, "framework": framework, "mode": mode, "case": case,
            "cell": f"{fw.label} {fw.mode_labels[mode]}", "status": status, "time.median": time,
            "throughput.median": 1 / time if time else None}


def small_tables() -> dict:
    """A CPU machine (m1) and a GPU machine (g1): cnn_cifar cells (one crashed, two within
    each other's interval) and a few operation cases."""
    cells = pd.DataFrame([
        cells_row("m1", "cnn_cifar", "torch", "eager", 1000.0, low=950, high=1050),
        cells_row("m1", "cnn_cifar", "torch", "compile", 1300.0, first=20.0),
        cells_row("m1", "cnn_cifar", "jax", "jit", 600.0),
        cells_row("m1", "cnn_cifar", "tensorflow", "xla", 0.0, status="crashed"),
        cells_row("m1", "cnn_cifar", "tensorflow", "function", 1020.0, low=990, high=1100),
        cells_row("g1", "cnn_cifar", "torch", "eager", 5000.0, kind="cuda"),
        cells_row("g1", "cnn_cifar", "jax", "jit", 7000.0, kind="cuda"),
    ])
    cases = pd.DataFrame([
        cases_row("m1", "inference_latency", "torch", "eager", "cnn_b1", 0.0006),
        cases_row("m1", "inference_latency", "tensorflow", "eager", "cnn_b1", 0.012),
        cases_row("m1", "inference_latency", "tensorflow", "function", "cnn_b1", 0.0014),
        cases_row("m1", "autodiff_advanced", "jax", "jit", "per_example_grads", 0.001),
        cases_row("m1", "autodiff_advanced", "jax", "jit", "per_example_grads_loop", 0.024),
    ])
    return {"cells": cells, "cases": cases}


# -- processes ------------------------------------------------------------------------------


def ctrl_c_as_in_a_terminal() -> None:
    """``preexec_fn`` for a process a test stops with SIGINT: a test run started in the
    background of a script inherits SIGINT ignored, and Python then installs no Ctrl-C
    handler at all; a terminal's Ctrl-C finds it at its default."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def worker_under(parent: psutil.Process, deadline_s: float = 120) -> psutil.Process:
    """The measured worker somewhere below ``parent``, once it has started. A process in the
    tree may exit between listing and reading its command line; that is skipped, not an error."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        for proc in parent.children(recursive=True):
            try:
                if "pipeline.measure.worker" in " ".join(proc.cmdline()):
                    return proc
            except psutil.Error:
                continue
        time.sleep(0.2)
    raise AssertionError(f"no worker started under pid {parent.pid} within {deadline_s} s")


def command_of(proc: psutil.Process) -> str:
    """A process's command line for a failure message, or why it cannot be read."""
    try:
        return " ".join(proc.cmdline())[:120]
    except psutil.Error as err:
        return f"pid {proc.pid} ({type(err).__name__})"


# -- artefacts shared between test processes ------------------------------------------------


def shared_root(tmp_path_factory) -> Path:
    """The session's temporary root that every xdist worker shares (its own when run alone)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextlib.contextmanager
def held(lock: Path):
    """An exclusive lock on ``lock`` across the test processes: the first worker to need a
    shared artefact builds it, the others wait and read it."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# -- the browser tier -----------------------------------------------------------------------

#: Debian's Chromium, which Playwright drives (None where it is not installed)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def serve(folder):
    """Serve ``folder`` on a free loopback port for as long as the generator lives."""
    from pipeline.publish import browse

    with browse.serve(folder) as base:
        yield base


# -- the workflow tier ----------------------------------------------------------------------

# Snakemake's default scheduling pace: these DAGs are too short to pile up the timer chains the
# workflow profile slows down against, and at its pace each run could wait 10 s to exit
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--cores", "2", "--max-jobs-per-timespan", "100/1s"]


def copy_repo(dest: Path) -> Path:
    """The working tree as a fresh clone would have it (tracked and new files)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split("\0")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dest / rel)
    return dest


def run(cmd: list[str], cwd: Path, timeout: int = 1500) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def machine_fact_files(machine: str) -> tuple[str, ...]:
    """What a measuring run writes about its machine before any cell: the description
    (and its rule's stamp), the timer check and the live ecosystem figures."""
    return (f"site_data/machines/{machine}.json", f"build/stamps/detect-{machine}.done",
            f"site_data/timer_check/{machine}.json", f"site_data/ecosystem/live/{machine}.json")


def with_machine_facts(repo: Path, facts: Path) -> Path:
    """``repo`` with the machine-wide files of the ``machine_facts`` run copied in."""
    from pipeline.measure import hardware

    for rel in machine_fact_files(hardware.machine_id()):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(facts / rel, repo / rel)
    return repo
