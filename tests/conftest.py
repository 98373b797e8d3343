"""Shared fixtures. Framework code runs in subprocesses (one framework per process),
as in the harness; their outputs are cached for the whole session."""

from __future__ import annotations

import contextlib
import fcntl
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

from pipeline.core import config as config_mod  # noqa: E402
from pipeline.core.config import modes_for  # noqa: E402
from pipeline.core.frameworks import FRAMEWORKS  # noqa: E402
from pipeline.core.references import ACCELERATORS_PATH, MODEL_COSTS_PATH  # noqa: E402
from pipeline.core.registry import discover  # noqa: E402
from pipeline.publish.tables import Declared, declared  # noqa: E402

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


@pytest.fixture(scope="session")
def probe(tmp_path_factory):
    """``probe(workload, framework, mode, precision="fp32")`` -> the arrays saved by framework_probe.py,
    run once per session however many workers ask."""
    folder = shared_root(tmp_path_factory) / "probes"

    def run(workload: str, framework: str, mode: str, precision: str = "fp32"):
        key = (workload, framework, mode, precision)
        for name in FRAMEWORKS[framework].needs(mode):
            if not FRAMEWORKS[name].installed():
                pytest.skip(f"{name} is not installed")
        out, log = folder / f"{'-'.join(key)}.npz", folder / f"{'-'.join(key)}.log"
        with held(folder / f"{'-'.join(key)}.lock"):
            if not log.exists():
                proc = subprocess.run(
                    [sys.executable, str(ROOT / "tests" / "framework_probe.py"), workload, framework, mode, str(out),
                     precision],
                    capture_output=True, text=True, cwd=ROOT, timeout=900,
                    env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
                )
                if proc.returncode != 0:
                    out.unlink(missing_ok=True)
                log.write_text(proc.stderr[-3000:])
        assert out.exists(), f"{'/'.join(key)} failed:\n{log.read_text()}"
        return dict(np.load(out))

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


@pytest.fixture(scope="session")
def machine_facts(tmp_path_factory) -> Path:
    """One real run of the machine-wide rules (detect, timer check, ecosystem figures),
    for the runs that test something else: each starts from a copy of what this run
    wrote, as a checkout that measured on this machine before would. The end-to-end
    smoke run measures them itself."""
    from pipeline.measure import hardware

    machine = hardware.machine_id()
    repo = copy_repo(shared_root(tmp_path_factory) / "machine-facts")
    targets = [f"build/stamps/{rule}-{machine}.done" for rule in ("detect", "timer-check", "ecosystem")]
    proc = run([*SNAKEMAKE, "--", *targets], repo)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return repo


def with_machine_facts(repo: Path, facts: Path) -> Path:
    """``repo`` with the machine-wide files of the ``machine_facts`` run copied in."""
    from pipeline.measure import hardware

    for rel in machine_fact_files(hardware.machine_id()):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(facts / rel, repo / rel)
    return repo


@pytest.fixture(scope="session")
def built_site(tmp_path_factory):
    """The committed docs and results, built strictly into a temporary folder (once per session)."""
    out = shared_root(tmp_path_factory) / "site"
    with held(shared_root(tmp_path_factory) / "site.lock"):
        if not (out / "index.html").is_file():
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
