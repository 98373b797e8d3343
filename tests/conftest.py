"""Shared fixtures. Framework code runs in subprocesses (one framework per process),
as in the harness; their outputs are cached for the whole session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.core.config import modes_for  # noqa: E402
from pipeline.core.frameworks import FRAMEWORKS  # noqa: E402
from pipeline.core.reference_figures import ACCELERATORS_PATH, MODEL_COSTS_PATH  # noqa: E402
from pipeline.core.registry import discover  # noqa: E402

WORKLOADS = discover()
CELLS = [
    (w, fw, mode)
    for w, workload in WORKLOADS.items()
    for fw in FRAMEWORKS if workload.implements(fw)
    for mode in modes_for({"modes": {}}, fw)
]
TRAINING_CELLS = [c for c in CELLS if WORKLOADS[c[0]].is_training]
OPERATION_CELLS = [c for c in CELLS if not WORKLOADS[c[0]].is_training]
BF16_CELLS = [c for c in TRAINING_CELLS if "bf16" in WORKLOADS[c[0]].spec.get("precisions", [])]


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


def cell_id(cell) -> str:
    return "-".join(cell)


@pytest.fixture(scope="session")
def probe(tmp_path_factory):
    """``probe(workload, framework, mode, precision="fp32")`` -> the arrays saved by framework_probe.py."""
    cache: dict = {}
    folder = tmp_path_factory.mktemp("probes")

    def run(workload: str, framework: str, mode: str, precision: str = "fp32"):
        key = (workload, framework, mode, precision)
        if key not in cache:
            for name in FRAMEWORKS[framework].needs(mode):
                if not FRAMEWORKS[name].installed():
                    pytest.skip(f"{name} is not installed")
            out = folder / f"{'-'.join(key)}.npz"
            proc = subprocess.run(
                [sys.executable, str(ROOT / "tests" / "framework_probe.py"), workload, framework, mode, str(out),
                 precision],
                capture_output=True, text=True, cwd=ROOT, timeout=900,
                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
            )
            cache[key] = (proc, dict(np.load(out)) if proc.returncode == 0 and out.exists() else None)
        proc, arrays = cache[key]
        assert arrays is not None, f"{'/'.join(key)} failed:\n{proc.stderr[-3000:]}"
        return arrays

    return run


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


def _fail_skips_in_ci(report) -> None:
    """Under CI=true a skip is a failure: a missing framework or browser must turn
    the run red, not shrink it silently."""
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = CI_SKIP + reason


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_skips_in_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_skips_in_ci(outcome.get_result())


@pytest.fixture(scope="session")
def built_site(tmp_path_factory):
    """The committed docs and results, built strictly into a temporary folder."""
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


TIERS = ["contract", "equivalence", "workflow", "site", "browser"]


def pytest_collection_modifyitems(config, items):
    """Cheapest tier first: unit tests (no tier marker), then contract ... browser."""

    def tier(item) -> int:
        marks = {m.name for m in item.iter_markers()}
        return next((i + 1 for i, name in enumerate(TIERS) if name in marks), 0)

    items.sort(key=tier)
