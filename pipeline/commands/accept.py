"""Place a results bundle (a pull request's ``site_data/`` of one machine, as ``bundle`` writes
it) into the data folder: every file checked as ``verify`` checks it, nothing written if
anything is found, earlier runs kept in history."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.commands import options
from pipeline.core.registry import discover
from pipeline.publish import contribution


def arguments(parser: argparse.ArgumentParser) -> None:
    options.with_config(parser)
    parser.add_argument("--data-dir", default="site_data")
    parser.add_argument("folder", help="the bundle: a folder holding site_data/ (or its contents)")


def main(ns: argparse.Namespace) -> int:
    cfg = options.config(ns)
    workloads = discover()
    moves, findings, notes = contribution.accept(Path(ns.folder), Path(ns.data_dir), workloads,
                                                 options.declared(cfg, workloads))
    for line in notes:
        print(f"note: {line}")
    if findings:
        print("\n".join(findings))
        print(f"refused: {len(findings)} finding(s); nothing was written")
        return 1
    counts: dict[str, int] = {}
    for move in moves:
        counts[move.action] = counts.get(move.action, 0) + 1
        if move.action == "kept":
            print(f"kept {move.dest} ({move.note}); the bundle's copy was not taken")
    print("accepted: " + ", ".join(f"{n} {action}" for action, n in sorted(counts.items())))
    return 0
