"""Sessions anyone can run: `nox -s reproduce`, `nox -s tests`, `nox -s quick`, `nox -s site`, `nox -s lint`.

Each session installs what it needs into its own virtual environment under .nox/ (quick uses the one of tests)
(reused between runs). Arguments after `--` are passed through.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests"]

PYTHON = "3.11"
PYPROJECT = nox.project.load_toml("pyproject.toml")


def install_project(session: nox.Session, frameworks: bool = True, *groups: str) -> None:
    if frameworks:
        # pinned CPU builds; on a GPU machine install your own and run snakemake directly
        session.install("-r", "requirements/cpu.txt")
    session.install("-e", ".")
    for group in groups:
        session.install(*nox.project.dependency_groups(PYPROJECT, group))


#: Debian packages the tests drive: the browser tier's chromium, the Slurm test's
#: one-node cluster (program -> package)
DEBIAN = {"chromium": "chromium", "slurmctld": "slurm-wlm", "munged": "munge"}


def ensure_debian_packages(session: nox.Session, programs=tuple(DEBIAN)) -> None:
    """Install the Debian packages of ``programs`` where they are missing and we may (as root, with apt)."""
    wanted = sorted({DEBIAN[program] for program in programs if not shutil.which(program)})
    if not wanted:
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {"DEBIAN_FRONTEND": "noninteractive"}
        session.run("apt-get", "update", "-q", external=True, env=env)
        session.run("apt-get", "install", "-y", "-q", *wanted, external=True, env=env)
    else:
        session.warn(f"not found: Debian's {', '.join(wanted)}; the tests that need them are skipped")


@nox.session(python=PYTHON)
def reproduce(session: nox.Session) -> None:
    """The main job: measure every cell on this machine (default profile) and build site/."""
    install_project(session)
    session.run("python", "-m", "pipeline", "check")
    # remeasure=true: measure afresh even where this machine's stored results are current
    session.run("snakemake", "--cores", "all", "--config", "remeasure=true", *session.posargs)


#: the tests that measure nothing run side by side on up to this many processes
WORKERS = ["--numprocesses", "auto", "--maxprocesses", "4", "--dist", "loadgroup"]
#: the unit tier (no tier marker): what a contributor runs before a pull request
UNIT = "not (contract or equivalence or workflow or site or browser or alone)"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The test suite: the tests that time nothing side by side, then those that measure, alone.

    Arguments after -- replace both with one plain pytest run (``nox -s tests -- tests/site/test_site.py``)."""
    install_project(session, True, "test")
    ensure_debian_packages(session)
    if session.posargs:
        session.run("pytest", *session.posargs)
        return
    failed = []
    for name, args in (("side by side", ["-m", "not alone", *WORKERS]), ("alone", ["-m", "alone"])):
        try:
            session.run("pytest", *args)
        except nox.command.CommandFailed:
            failed.append(name)
    if failed:
        session.error(f"tests failed: {', '.join(failed)}")


@nox.session(venv_backend="none")
def quick(session: nox.Session) -> None:
    """The unit tier, side by side, in the tests session's environment: a few minutes, before every pull request.

    ``nox -s tests --install-only`` brings that environment up to date first (the first time it installs the
    pinned stack, which takes minutes; afterwards pip only confirms it)."""
    session.run(sys.executable, "-m", "nox", "-s", "tests", "--install-only", external=True)
    python = Path(".nox") / "tests" / "bin" / "python"
    session.run(str(python), "-m", "pytest", "-m", UNIT, *WORKERS, *session.posargs, external=True)


@nox.session(python=PYTHON)
def site(session: nox.Session) -> None:
    """Rebuild the pages and site/ from the results already in site_data/, measuring nothing."""
    install_project(session, False)
    session.run("snakemake", "--cores", "all", "--config", "measure=false", "--forcerun", "aggregate",
                *session.posargs)


@nox.session(python=PYTHON)
def screenshots(session: nox.Session) -> None:
    """Build the site from the committed tables and write every page at 1280 and 390 px into build/screenshots/."""
    install_project(session, False, "test")
    ensure_debian_packages(session, ["chromium"])
    session.run("mkdocs", "build", "--strict")
    session.run("python", "-m", "pipeline", "screenshots", "--site", "site", "--out", "build/screenshots")
    session.run("python", "-m", "pipeline", "page-weight", "--site", "site", success_codes=[0, 1])


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff over the package, the workloads and the tests."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", *(session.posargs or ["."]))
