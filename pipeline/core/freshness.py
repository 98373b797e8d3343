"""Is a stored result still what this tree would measure? Staleness by content,
as asv does with benchmark hashes, not by file times: a fresh clone of an
unchanged tree has nothing to measure, and an edit re-measures only the cells
whose files changed.

A cell's stored result is *current* when it succeeded (or its mode is
unsupported) under the same profile, number of processes and threads, from
source files whose SHA-256 equal the tree's. For ``workload.yaml`` the digest
covers only what a measured process reads (:func:`declaration_digest`): an edit
to the title, the description or the tests' tolerances re-measures nothing. Each cell also gets a *key*, a
digest of what it would measure; the DAG names the cell's stamp by it, so a
changed key is a missing stamp. A result that failed or cannot be read adds its
own digest to the key: every attempt leaves a different file, so a failed cell
stays a to-do without anything written while the DAG is planned.

Read-only: nothing here writes a file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipeline import REPO_ROOT
from pipeline.contract import DECLARATION_FILE
from pipeline.core import config as config_mod
from pipeline.core import equivalence, results
from pipeline.core.config import Cell
from pipeline.core.registry import Workload

#: statuses of a cell that needs no new attempt (an unsupported mode stays so)
SETTLED = ("ok", "unsupported")


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def display(path: Path) -> str:
    """Repository-relative where possible; never an absolute path from someone's disk."""
    path = Path(path).resolve()
    if path.is_relative_to(REPO_ROOT):
        return str(path.relative_to(REPO_ROOT))
    return f"{path.parent.name}/{path.name}"


#: What a measured process reads of ``workload.yaml`` besides its profile's block.
MEASURED_FIELDS = ("task", "precisions", "uses")
#: Tolerances the measured process applies (the evidence it keeps, an operation's
#: output check); the others only the tests read.
MEASURED_TOLERANCES = ("equivalence_steps", "output_rtol")


def declaration_digest(content: bytes, profile: str) -> str:
    """SHA-256 of the parts of a ``workload.yaml`` a measurement of ``profile`` reads,
    defaults included; unreadable content digests as raw bytes (it is refused elsewhere)."""
    try:
        spec = yaml.safe_load(content)
        tolerance = equivalence.tolerance(spec)
        measured = {**{k: spec.get(k) for k in MEASURED_FIELDS}, "profile": spec["profiles"][profile],
                    "tolerance": {k: tolerance[k] for k in MEASURED_TOLERANCES}}
    except (yaml.YAMLError, AttributeError, KeyError, TypeError):
        return hashlib.sha256(content).hexdigest()
    return hashlib.sha256(json.dumps(measured, sort_keys=True).encode()).hexdigest()


def file_digest(name: str, content: bytes, profile: str) -> str:
    """One source file's recorded digest: the declaration's measured parts, or the bytes."""
    if Path(name).name == DECLARATION_FILE:
        return declaration_digest(content, profile)
    return hashlib.sha256(content).hexdigest()


def source_digests(paths: list[Path], profile: str) -> dict[str, str]:
    """The digests a result records (``provenance.source_sha256``) and is compared by."""
    return {display(p): file_digest(p.name, Path(p).read_bytes(), profile) for p in map(Path, paths)}


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class CellState:
    current: bool
    #: names the cell's stamp: what it measures, and for a failed result which attempt
    key: str
    #: why the stored result is or is not current, for the planning log
    reason: str

    def again(self) -> str:
        """A key for a cell whose stamp already exists although it is not current
        (its result was deleted after it was measured): measured once more."""
        return _digest([self.key, "again"])


def cell_state(result_path: Path, sources: list[Path], profile: str, processes: int, threads: int,
               remeasure: bool = False) -> CellState:
    """``remeasure``: not current whatever it holds (the key then includes the
    stored result's digest, so that each such run measures again)."""
    want = source_digests(sources, profile)
    base = {"result": display(result_path), "profile": profile, "sources": want, "processes": processes,
            "threads": threads}
    key = _digest(base)
    try:
        raw = Path(result_path).read_bytes()
    except FileNotFoundError:
        return CellState(False, key, "no stored result")
    except OSError as err:
        return CellState(False, _digest([base, str(err)]), f"stored result unreadable ({err.strerror})")
    attempt = _digest([base, hashlib.sha256(raw).hexdigest()])
    if remeasure:
        return CellState(False, attempt, "measured again on request (remeasure=true)")
    try:
        record = json.loads(raw)
        status = record["status"]
        recorded = record["provenance"]["source_sha256"]
        recorded_processes = len(record["processes"])
        recorded_threads = record.get("knobs", {}).get("threads")
        recorded_profile = record["profile"]
    except (ValueError, KeyError, TypeError):
        return CellState(False, attempt, "stored result malformed")
    if status not in SETTLED:
        return CellState(False, attempt, f"stored result {status}")
    contended = sum(isinstance(p, dict) and p.get("status") == "contended" for p in record["processes"])
    if contended:  # measured beside other work: the next run tries again
        return CellState(False, attempt, f"stored result has {contended} contended process(es)")
    if recorded != want:
        changed = sorted(p for p in set(want) | set(recorded) if want.get(p) != recorded.get(p))
        return CellState(False, key, f"sources changed: {', '.join(changed)}")
    if recorded_profile != profile:
        return CellState(False, key, f"stored result is of profile {recorded_profile}")
    if recorded_processes != processes:
        return CellState(False, key, f"stored result has {recorded_processes} process(es), the config {processes}")
    if status == "ok" and recorded_threads != threads:
        return CellState(False, key, f"stored result ran {recorded_threads} thread(s), the config {threads}")
    return CellState(True, key, f"current ({status})")


@dataclass(frozen=True)
class Planned:
    result: Path
    state: CellState
    #: the key the stamp is named by (another than ``state.key`` when measured once more)
    key: str
    #: the DAG's stamp of the cell, relative to the repository
    stamp: str


def stamp_path(machine: str, cell: Cell, profile: str, key: str) -> str:
    return f"build/cells/{machine}/{cell.workload}/{results.stem(cell.framework, cell.mode, profile)}.{key}.done"


def plan(config: dict, cells: list[Cell], workloads: dict[str, Workload], machine: str) -> dict[Cell, Planned]:
    """Each cell's stored result, its state and its stamp. A stamp that exists for a
    cell that is not current (its result was deleted after it was measured) gets
    another key, so the cell is measured once more."""
    out = {}
    for cell in cells:
        result = results.result_path(config["data_dir"], machine, cell.workload, cell.framework, cell.mode,
                                     config["profile"])
        state = cell_state(result, workloads[cell.workload].source_files(cell.framework), config["profile"],
                           config_mod.processes(config), config_mod.threads(config), config.get("remeasure", False))
        key = state.key
        if not state.current and Path(stamp_path(machine, cell, config["profile"], key)).exists():
            key = state.again()
        out[cell] = Planned(result, state, key, stamp_path(machine, cell, config["profile"], key))
    return out
