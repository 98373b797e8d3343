"""Ecosystem figures measured on this machine, from the installed packages.

Everything here reads installed metadata (``importlib.metadata``) or times fresh
processes; nothing is looked up online, so the figures describe exactly the
environment the benchmarks ran in. A framework that is not installed gets null
figures marked ``installed: false``, never an invented number.

    python -m pipeline ecosystem --runs 7 --out site_data/ecosystem/live/<machine>.json
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from pipeline import REPO_ROOT, SCHEMAS
from pipeline.core import validation
from pipeline.core.ecosystem import FIGURES, LIVE_FIGURES
from pipeline.core.results import write_atomic
from pipeline.measure.hardware import machine_id

ROOT = REPO_ROOT
SCHEMA_PATH = SCHEMAS / "ecosystem_live.schema.json"
PROJECT = "framework-comparison"
MIB = 1024 * 1024


class LiveError(ValueError):
    """A live document that breaks its schema; the message names the file and field."""


@dataclass(frozen=True)
class Target:
    """What counts as "the framework" for the ecosystem figures."""

    name: str
    #: Its own distributions; each entry lists alternatives and the first installed
    #: one counts (TensorFlow is installed as tensorflow or as tensorflow-cpu).
    distributions: tuple[tuple[str, ...], ...]
    #: What the import-time child imports, as written after ``import``.
    imports: str
    #: Keras needs a backend at import: the first installed one of these is used.
    keras_backends: tuple[str, ...] = ()


TARGETS: dict[str, Target] = {
    "torch": Target("torch", (("torch",),), "torch"),
    "tensorflow": Target("tensorflow", (("tensorflow", "tensorflow-cpu"),), "tensorflow"),
    # our JAX code needs all three libraries, so all three are the framework
    "jax": Target("jax", (("jax",), ("jaxlib",), ("flax",), ("optax",)), "jax, flax.nnx, optax"),
    "keras": Target("keras", (("keras",),), "keras", keras_backends=("tensorflow", "jax", "torch")),
}

#: ``lookup(name)`` -> the requirement strings of an installed distribution, or
#: None when it is not installed. Injectable so tests need no real packages.
Lookup = Callable[[str], "list[str] | None"]


def installed_requires(name: str) -> list[str] | None:
    try:
        return importlib.metadata.distribution(name).requires or []
    except importlib.metadata.PackageNotFoundError:
        return None


def closure(requirements: Iterable[str], lookup: Lookup = installed_requires,
            environment: dict[str, str] | None = None) -> tuple[set[str], set[str]]:
    """(installed distributions reached, required distributions not installed),
    canonical names, from the requirement strings ``requirements`` on.

    Markers are evaluated for this interpreter (``environment`` overrides parts of
    it) with no extra selected, so ``extra == "..."`` requirements are skipped:
    extras are opt-in and not what a plain install brings. Extras named on a
    requirement (``foo[bar]``) are not followed either, for the same reason.
    """
    env = {**(environment or {}), "extra": ""}
    found: set[str] = set()
    missing: set[str] = set()
    todo = list(requirements)
    while todo:
        text = todo.pop()
        try:
            req = Requirement(text)
        except InvalidRequirement:
            missing.add(text)  # unreadable metadata: shown, not guessed at
            continue
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        name = canonicalize_name(req.name)
        if name in found or name in missing:
            continue
        requires = lookup(name)
        if requires is None:
            missing.add(name)
        else:
            found.add(name)
            todo.extend(requires)
    return found, missing


def project_requirements() -> list[str]:
    """This project's own requirements, the "base" every framework shares; the
    framework extras among them are dropped by ``closure``'s marker evaluation."""
    try:
        return importlib.metadata.requires(PROJECT) or []
    except importlib.metadata.PackageNotFoundError:
        # a plain checkout that was never pip-installed
        return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


def dependency_sets(own: Iterable[str], base: Iterable[str], lookup: Lookup = installed_requires,
                    environment: dict[str, str] | None = None) -> dict[str, list[str]]:
    """``dependencies``: the closure of the own distributions, less themselves;
    ``exclusive``: those the base does not already bring; ``missing``: required
    but not installed (counted as dependencies, but they have no size)."""
    own_names = {canonicalize_name(n) for n in own}
    reached, missing = closure(own_names, lookup, environment)
    deps = (reached | missing) - own_names
    base_reached, base_missing = closure(base, lookup, environment)
    return {
        "dependencies": sorted(deps),
        "exclusive": sorted(deps - base_reached - base_missing),
        "missing": sorted(missing - own_names),
    }


def size_bytes(name: str) -> int:
    """Bytes of the files a distribution's RECORD lists (files since removed are skipped)."""
    total = 0
    for f in importlib.metadata.distribution(name).files or ():
        try:
            total += f.locate().stat().st_size
        except OSError:
            pass
    return total


def license_of(meta) -> str | None:
    """SPDX expression if declared, else a short License field (some packages put the
    whole licence text there), else the licence classifiers."""
    if meta.get("License-Expression"):
        return meta["License-Expression"].strip()
    text = (meta.get("License") or "").strip()
    if text and len(text) < 80 and "\n" not in text:
        return text
    classifiers = [c.split(" :: ")[-1] for c in meta.get_all("Classifier") or () if c.startswith("License ::")]
    return "; ".join(classifiers) or None


def pythons_of(meta) -> str | None:
    """e.g. "3.10, 3.11, 3.12 (requires >=3.10)": classifiers say what is tested,
    Requires-Python what pip allows; they differ often enough to show both."""
    found = {m.group(1) for c in meta.get_all("Classifier") or ()
             if (m := re.fullmatch(r"Programming Language :: Python :: (3\.\d+)", c.strip()))}
    listed = ", ".join(sorted(found, key=lambda v: int(v.split(".")[1])))
    requires = meta.get("Requires-Python")
    if listed and requires:
        return f"{listed} (requires {requires})"
    return listed or (f"requires {requires}" if requires else None)


def import_times(imports: str, runs: int, env: dict[str, str]) -> tuple[list[float], str | None]:
    """Seconds for ``import <imports>`` in each of ``runs`` fresh interpreters, timed
    inside the child so interpreter start-up is excluded. One warm-up run is made and
    discarded first so every counted run finds the files in the OS cache: the figure
    is "cold" for Python (nothing imported yet) but not for the disk, which would
    otherwise favour whichever run happened second."""
    code = f"import time\nt0 = time.perf_counter()\nimport {imports}\nprint('IMPORT_S', time.perf_counter() - t0)"
    samples: list[float] = []
    for i in range(runs + 1):
        # a neutral working directory, so no local folder shadows the package
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env=env, cwd=tempfile.gettempdir(), timeout=600)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("IMPORT_S ")]
        if proc.returncode != 0 or not lines:
            return samples, f"import {imports} failed (exit {proc.returncode}): {proc.stderr.strip()[-800:]}"
        if i > 0:
            samples.append(round(float(lines[-1].split()[1]), 4))
    return samples, None


def _resolve_own(target: Target, lookup: Lookup) -> tuple[list[str], list[str]]:
    """(own distributions installed, groups with none installed)."""
    own, absent = [], []
    for group in target.distributions:
        chosen = next((d for d in group if lookup(d) is not None), None)
        if chosen:
            own.append(chosen)
        else:
            absent.append(" or ".join(group))
    return own, absent


def measure_target(target: Target, runs: int, base: list[str], lookup: Lookup = installed_requires) -> dict:
    own, absent = _resolve_own(target, lookup)
    if absent:
        return {"installed": False,
                "figures": {f: {"value": None, "installed": False} for f in LIVE_FIGURES},
                "distributions": {}, "import_times": [],
                "note": f"not installed: {', '.join(absent)}"}
    meta = importlib.metadata.distribution(own[0]).metadata
    others = ", ".join(f"{d} {importlib.metadata.version(d)}" for d in own[1:])

    env = dict(os.environ)
    import_note = f"median of {runs} fresh processes of `import {target.imports}`"
    with_backend = ""
    if target.keras_backends:
        # Keras runs on a backend it cannot do without: its footprint, dependencies and import
        # time all count the same one, the first installed in Keras' own order of preference
        backend = next((b for b in target.keras_backends if not _resolve_own(TARGETS[b], lookup)[1]), None)
        if backend:
            env["KERAS_BACKEND"] = backend
            import_note += f", KERAS_BACKEND={backend} (includes importing {backend})"
            own = own + [d for d in _resolve_own(TARGETS[backend], lookup)[0] if d not in own]
            with_backend = f" (with {backend}, the backend it runs on here)"
    sets = dependency_sets(own, base, lookup)
    sizes = {d: round(size_bytes(d) / MIB, 2) for d in own + [d for d in sets["exclusive"] if d not in sets["missing"]]}
    missing_note = f"required but not installed: {', '.join(sets['missing'])}" if sets["missing"] else None
    counted = f"{with_backend.strip(' ()')}: " if with_backend else ""
    samples, error = import_times(target.imports, runs, env)
    import_fig = {"value": round(statistics.median(samples), 4), "note": import_note} if not error else \
        {"value": None, "error": error}

    figures = {
        "version": {"value": meta["Version"], "note": f"{own[0]}" + (f"; with {others}" if others else "")},
        "license": {"value": license_of(meta), "note": f"of {own[0]}"},
        "pythons": {"value": pythons_of(meta), "note": f"of {own[0]}"},
        "footprint_mb": {"value": round(sum(sizes.values()), 2),
                         "note": f"{' + '.join(own)} and {len(sizes) - len(own)} exclusive dependencies{with_backend}"
                                 + (f"; {missing_note}" if missing_note else "")},
        "dependencies": {"value": len(sets["dependencies"]), "note": counted + ", ".join(sets["dependencies"])},
        "exclusive_dependencies": {"value": len(sets["exclusive"]), "note": counted + ", ".join(sets["exclusive"])},
        "import_time_s": import_fig,
    }
    for fig in figures.values():
        if fig["value"] is None and "error" not in fig:
            fig["error"] = "not declared in the package metadata"
    sizes = dict(sorted(sizes.items(), key=lambda kv: -kv[1]))  # biggest first, for the page
    return {"installed": True, "figures": figures, "distributions": sizes, "import_times": samples}


def measure(runs: int = 7, targets: dict[str, Target] | None = None, lookup: Lookup = installed_requires) -> dict:
    """The live document for this machine; ``targets`` defaults to every framework."""
    base = project_requirements()
    return {
        "schema_version": 1,
        "machine_id": machine_id(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "runs": runs,
        "frameworks": {name: measure_target(t, runs, base, lookup) for name, t in (targets or TARGETS).items()},
    }


def validate(doc: dict, source: str) -> None:
    validation.check(doc, SCHEMA_PATH, source, LiveError)
    for name, fw in doc["frameworks"].items():
        for fig in fw["figures"]:
            if FIGURES.get(fig) is None or FIGURES[fig].kind != "live":
                raise LiveError(f"{source}: field frameworks.{name}.figures.{fig}: not a live figure")


def write(path: Path, doc: dict) -> None:
    validate(doc, str(path))
    write_atomic(Path(path), doc)
