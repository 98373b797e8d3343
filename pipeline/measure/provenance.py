"""Where a number came from: software, hardware, code and knobs. No hostname."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path

from pipeline import REPO_ROOT
from pipeline.core import instruments
from pipeline.core.frameworks import all_versions
from pipeline.core.freshness import source_digests
from pipeline.measure import hardware

LIBRARIES = ("numpy", "scipy", "scikit-learn", "pandas", "snakemake")
#: The DAG run a process belongs to: set once by whoever starts the run (the
#: Snakefile, run-suite, a lone `pipeline run`) and inherited by every job it starts.
RUN_ID_ENV = "PIPELINE_RUN_ID"


def run_id() -> str:
    """The id set by whoever started this run, or a new one (the UTC time now)."""
    return os.environ.get(RUN_ID_ENV) or dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def ensure_run_id() -> str:
    """For what starts a run (the Snakefile, run-suite, a lone `pipeline run`): fix this
    run's id in the environment, so every job started from here records the same one."""
    return os.environ.setdefault(RUN_ID_ENV, run_id())


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=20, check=True
        ).stdout.strip()
    except (subprocess.SubprocessError, OSError):
        return None


def git_state() -> dict:
    sha = _git("rev-parse", "HEAD")
    # generated outputs (results, pages, site) do not make the code dirty
    status = _git("status", "--porcelain", "--untracked-files=no", "--", ".",
                  ":(exclude)site_data", ":(exclude)docs", ":(exclude)site")
    return {"sha": sha, "dirty": bool(status) if status is not None else None}


def library_versions() -> dict[str, str | None]:
    versions = all_versions()
    for dist in LIBRARIES:
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    return versions


@functools.cache
def instrument() -> dict:
    """Which instrument measures here: its declared version (``pipeline/core/instruments.py``)
    and the SHA-256 over the measuring code's files (path and content), which tells two
    checkouts of one version apart."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for path in sorted(here.rglob("*.py")):
        digest.update(path.relative_to(here).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return {"version": instruments.CURRENT.version, "sha256": digest.hexdigest()}


def collect(source_files: list[Path], profile: str) -> dict:
    """The provenance block stored with every result (``profile``: what of
    ``workload.yaml`` the digest covers, see :func:`pipeline.core.freshness.declaration_digest`)."""
    return {
        "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "hardware": hardware.describe(),
        "versions": library_versions(),
        "git": git_state(),
        "instrument": instrument(),
        "source_sha256": source_digests(source_files, profile),
    }
