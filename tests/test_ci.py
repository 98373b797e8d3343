"""Unit tier: CI cannot pass by skipping. Under CI=true a test that would skip
(here: a framework hidden by tests/fixtures/blocked_imports) fails the run, in a
scratch pytest run of the project's own tests; without CI=true it skips."""

from __future__ import annotations

import os
import subprocess
import sys

from helpers import CI_SKIP, FIXTURES, ROOT


def scratch_run(ci: bool) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(FIXTURES / "blocked_imports"),
           "BLOCKED_IMPORTS": "torch", "CI": "true" if ci else ""}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/measure/test_backends.py",
         "-k", "torch"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)


def test_a_missing_framework_fails_a_ci_run():
    proc = scratch_run(ci=True)
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert CI_SKIP in proc.stdout and "torch" in proc.stdout
    assert " failed" in proc.stdout.splitlines()[-1] and "skipped" not in proc.stdout.splitlines()[-1]


def test_the_same_run_outside_ci_skips():
    proc = scratch_run(ci=False)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "skipped" in proc.stdout.splitlines()[-1] and "failed" not in proc.stdout.splitlines()[-1]
