"""Shared fixtures and the hooks of the test run. Framework code runs in subprocesses
(one framework per process), as in the harness; their outputs are cached for the whole
session. Everything else the tests share is in helpers.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from helpers import (
    CHROMIUM,
    CI_SKIP,
    ROOT,
    SNAKEMAKE,
    copy_repo,
    held,
    in_ci,
    run,
    shared_root,
)

from pipeline.core.frameworks import FRAMEWORKS
from pipeline.core.registry import WORKLOADS_DIR


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
                # its temporary files (a fresh compile cache) go with it, as a measured process's do
                with tempfile.TemporaryDirectory(dir=folder) as scratch:
                    proc = subprocess.run(
                        [sys.executable, str(ROOT / "tests" / "framework_probe.py"), workload, framework, mode,
                         str(out), precision],
                        capture_output=True, text=True, cwd=ROOT, timeout=900,
                        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "TMPDIR": scratch},
                    )
                if proc.returncode != 0:
                    out.unlink(missing_ok=True)
                log.write_text(proc.stderr[-3000:])
        assert out.exists(), f"{'/'.join(key)} failed:\n{log.read_text()}"
        return dict(np.load(out))

    return run


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
def machine_facts(tmp_path_factory) -> Path:
    """One real run of the machine-wide rules (detect, timer check, ecosystem figures) at the
    smoke profile (its import runs), for the runs that test something else: each starts from a
    copy of what this run wrote, as a checkout that measured on this machine before would."""
    from pipeline.measure import hardware

    machine = hardware.machine_id()
    repo = copy_repo(shared_root(tmp_path_factory) / "machine-facts")
    targets = [f"build/stamps/{rule}-{machine}.done" for rule in ("detect", "timer-check", "ecosystem")]
    proc = run([*SNAKEMAKE, "--config", "profile=smoke", "--", *targets], repo)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return repo


@pytest.fixture
def workload_copy(tmp_path) -> Path:
    """A copy of mlp_digits named mlp_copy, for a test to edit."""
    folder = tmp_path / "mlp_copy"
    shutil.copytree(WORKLOADS_DIR / "mlp_digits", folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium, driven by Playwright: one per test module (a module at a time, so its
    event loop never meets another module's, such as the notebook runner's)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from pipeline.publish import browse

    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=browse.BROWSER_ARGS)
        yield b
        b.close()


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
