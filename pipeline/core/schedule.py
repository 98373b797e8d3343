"""The order in which the DAG runs measured processes, so that a claim's two sides
are measured side by side.

Processes run in rounds: process 0 of every cell, then process 1, and so on, so
that slow drift of the machine hits every framework alike. Within a round, the
cells a claim compares run back to back (claims naming the fewest cells first, so
a one-cell-against-one-cell claim always gets adjacent processes), and every
other round runs in reverse order: A B, then B A, then A B. A claim's ratio can
then be taken round by round from two processes measured within a minute or two
of each other (``statistics.paired_ratio``): drift slower than that cancels in
each round's ratio, and drift that is linear over two rounds cancels between
them.

Planning reads the ledger leniently: ``pipeline check`` validates it, and an
entry this module cannot read only loses its adjacency, never a measurement.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml

#: (workload, framework, mode)
Cell = tuple[str, str, str]


def predicates(ledger: Path) -> list[dict]:
    """The ledger's two-sided predicates on measured cells; [] when there is no
    readable ledger."""
    try:
        doc = yaml.safe_load(Path(ledger).read_text())
    except (OSError, yaml.YAMLError):
        return []
    claims = doc.get("claims") if isinstance(doc, dict) else None
    out = []
    for claim in claims if isinstance(claims, list) else []:
        pred = claim.get("predicate") if isinstance(claim, dict) else None
        if (isinstance(pred, dict) and "ecosystem" not in pred and isinstance(pred.get("workload"), str)
                and all(isinstance(pred.get(s), list) for s in ("a", "b"))):
            out.append(pred)
    return out


def named(items: Iterable, cells: list[Cell]) -> list[Cell]:
    """The cells among ``cells`` that side items ("framework" or "framework:mode") name."""
    out = []
    for item in items:
        framework, _, mode = str(item).partition(":")
        out += [c for c in cells if c[1] == framework and (not mode or c[2] == mode) and c not in out]
    return out


def order(cells: Iterable[Cell], preds: list[dict]) -> list[Cell]:
    """The order of one round: workload by workload; within a workload, the cells of
    each claim together, a side before b, smallest claims first; the rest after."""
    cells = list(dict.fromkeys(cells))
    sequence: list[Cell] = []
    for workload in sorted({c[0] for c in cells}):
        mine = [c for c in cells if c[0] == workload]
        groups = [named(p["a"], mine) + named(p["b"], mine) for p in preds if p["workload"] == workload]
        placed: list[Cell] = []
        for group in sorted(groups, key=len):
            placed += [c for c in group if c not in placed]
        sequence += placed + [c for c in mine if c not in placed]
    return sequence


def priorities(sequence: list[Cell], processes: int) -> dict[tuple[Cell, int], int]:
    """Snakemake priority of each (cell, process index): every process of round i
    before any of round i+1, the round's order reversed in odd rounds. All are at
    least 1, above the default 0 of the jobs that merge and publish."""
    n = len(sequence)
    out = {}
    for index in range(processes):
        base = (processes - 1 - index) * n
        for position, cell in enumerate(sequence):
            out[cell, index] = base + (n - position if index % 2 == 0 else position + 1)
    return out
