"""Workflow tier: the publishing half runs where no framework is installed, and
regenerating the committed tables, verdicts, charts and pages from the committed
results gives the committed files back, byte for byte.

Every publishing module is imported, and every publishing command run, in
interpreters whose import system answers "absent" for every framework and logs
each attempt (tests/fixtures/blocked_imports): the test fails on a failed
command, on any attempt at all, and on any generated file that differs from the
one in the repository (a page edited by hand, or code changed without
regenerating)."""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import FIXTURES, ROOT

from pipeline.core.config import load as load_config

pytestmark = pytest.mark.workflow

FRAMEWORK_PACKAGES = ("torch", "torchvision", "tensorflow", "tensorflow_cpu", "tf_keras", "keras", "jax", "jaxlib",
                      "flax", "optax", "orbax")
PUBLISHING_MODULES = sorted(
    "pipeline.publish." + p.stem for p in (ROOT / "pipeline" / "publish").glob("*.py") if p.stem != "__init__"
)


def blocked_env(log: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(FIXTURES / "blocked_imports"),
            "BLOCKED_IMPORTS": ",".join(FRAMEWORK_PACKAGES), "BLOCKED_IMPORTS_LOG": str(log)}


def run_blocked(args: list[str], log: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=1800,
                          env=blocked_env(log))


def attempts(log: Path) -> str:
    return log.read_text() if log.exists() else ""


def test_the_blocker_blocks(tmp_path):
    """The fixture itself: an import of a blocked framework fails and is logged,
    so the tests below cannot pass because blocking silently did nothing."""
    log = tmp_path / "attempts.log"
    proc = run_blocked(["-c", "import torch"], log)
    assert proc.returncode != 0 and "ModuleNotFoundError" in proc.stderr
    assert attempts(log).startswith("torch\t")


def test_every_publishing_module_imports_without_a_framework(tmp_path):
    log = tmp_path / "attempts.log"
    assert len(PUBLISHING_MODULES) >= 10
    code = "import importlib, sys\nfor m in sys.argv[1:]:\n    importlib.import_module(m)\n"
    proc = run_blocked(["-c", code, *PUBLISHING_MODULES, "pipeline.cli"], log)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert attempts(log) == "", attempts(log)


def _tree_differences(expected: Path, actual: Path) -> list[str]:
    """Files that differ in content, or exist on one side only, below two folders."""
    def files(root: Path) -> set[str]:
        return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}

    left, right = files(expected), files(actual)
    return sorted([f"{name}: only in the repository" for name in left - right]
                  + [f"{name}: only in the regeneration" for name in right - left]
                  + [f"{name}: differs" for name in left & right
                     if not filecmp.cmp(expected / name, actual / name, shallow=False)])


def test_publishing_regenerates_the_committed_site_without_a_framework(tmp_path):
    """aggregate -> ergonomics -> verdicts -> guide -> compare-machines -> charts -> pages -> verify
    on a copy of the committed data and docs, in the blocked interpreter, as the DAG runs them."""
    cfg = load_config(ROOT / "config" / "config.yaml")
    data, docs, log = tmp_path / "site_data", tmp_path / "docs", tmp_path / "attempts.log"
    shutil.copytree(ROOT / "site_data", data)
    shutil.copytree(ROOT / "docs", docs)
    shutil.rmtree(data / "tables")
    shutil.rmtree(docs / "assets" / "charts")
    steps = [
        ["aggregate", "--data-dir", str(data), "--out-dir", str(data / "tables"),
         "--publish", ",".join(cfg["publish"]), "--threshold", str(cfg["comparison"]["threshold"]),
         "--alpha", str(cfg["comparison"]["alpha"])],
        # before verdicts, as in the DAG: claims about scaling out read scale_out.json
        ["ergonomics", "--out", str(data / "tables" / "ergonomics.csv")],
        ["verdicts", "--data-dir", str(data), "--claims", str(data / "claims.yaml"),
         "--out", str(data / "tables" / "verdicts.csv")],
        ["guide", "--data-dir", str(data), "--out", str(data / "tables" / "guide.json")],
        ["compare-machines", "--tables", str(data / "tables"),
         "--out", str(data / "tables" / "machine_differences.json")],
        ["charts", "--tables", str(data / "tables"), "--out-dir", str(docs / "assets" / "charts"),
         "--stamp", str(docs / "assets" / "charts" / "index.txt")],
        ["pages", "--data-dir", str(data), "--docs-dir", str(docs)],
        ["verify", "--data-dir", str(data)],
    ]
    for step in steps:
        proc = run_blocked(["-m", "pipeline", *step], log)
        assert proc.returncode == 0, f"{step[0]}:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    assert attempts(log) == "", attempts(log)

    assert _tree_differences(ROOT / "site_data", data) == []
    assert _tree_differences(ROOT / "docs", docs) == []
