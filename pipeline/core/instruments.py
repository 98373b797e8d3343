"""Which instrument measured a result, and which results may be set against each other.

The instrument is the measuring code (``pipeline/measure``). Each version below names the
commit that introduced it, what it changed, and its *method*: figures of one method were
timed the same way and may be compared and pooled; a change to what is timed, or how a
sample becomes a figure, starts a new method, and figures of different methods are never
compared, paired or pooled (a repeat run, a machine against another, the pooled noise).

A result records its instrument in ``provenance.instrument`` (the version, and the SHA-256
of the measuring code, :func:`pipeline.measure.provenance.instrument`). Results stored
before that field existed are placed by what their processes recorded (:func:`version_of`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Instrument:
    version: int
    since: str  # the commit that introduced it
    date: str
    method: int
    change: str


# The timed code (pipeline/measure/timing.py: a synced call, warm-up discarded, samples
# grouped by process) is unchanged since da8140d; versions 2 and 3 changed what is
# recorded beside it and which processes are re-run, not what a sample measures.
INSTRUMENTS = (
    Instrument(1, "da8140d", "2026-11-21", 1,
               "processes in rounds, each sample timed around a synced call; nothing recorded about what else ran"),
    Instrument(2, "99a8b9f", "2026-12-02", 1,
               "each process records what else ran over its whole life, and a calibration canary before and after; "
               "a contended process is re-run"),
    Instrument(3, "fd02e61", "2026-12-07", 1,
               "what else ran is read over the timed samples only, not setup or compiling; steal above 5% during "
               "them makes a process contended"),
)
CURRENT = INSTRUMENTS[-1]
BY_VERSION = {i.version: i for i in INSTRUMENTS}


def recorded(result: dict) -> dict | None:
    """``provenance.instrument`` as stored (None in results from before it was recorded)."""
    return (result.get("provenance") or {}).get("instrument")


def version_of(result: dict) -> int | None:
    """The instrument version that measured ``result``: the one it records, or, for a result
    stored before results recorded it, the one its processes' records imply (3: interference
    read over the timed samples, ``stretches``; 2: over the process; 1: none recorded). None
    when no process was measured (a cell refused before running says nothing)."""
    stored = recorded(result)
    if stored:
        return int(stored["version"])
    measured = [p for p in result.get("processes") or [] if p.get("samples")]
    if not measured:
        return None
    seen = [p.get("interference") for p in measured]
    if any(i and "stretches" in i for i in seen):
        return 3
    return 2 if any(seen) else 1


def method_of(result: dict) -> int | None:
    version = version_of(result)
    return BY_VERSION[version].method if version in BY_VERSION else None


def comparable(a: dict, b: dict) -> bool:
    """Whether two results' figures may be set against each other: the same method (a
    result that measured nothing has no figures to compare and never blocks)."""
    ma, mb = method_of(a), method_of(b)
    return ma is None or mb is None or ma == mb


COLUMNS = ["version", "since", "date", "method", "change", "current"]


def rows() -> list[dict]:
    """``instruments.csv``: every version, what it changed and its method."""
    return [{"version": i.version, "since": i.since, "date": i.date, "method": i.method, "change": i.change,
             "current": i is CURRENT} for i in INSTRUMENTS]
