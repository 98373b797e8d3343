"""Compare two runs of a machine: per cell, the ratio of medians, whether each falls inside
the other run's interval, and what the later run recorded that could explain a miss."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.commands import options
from pipeline.core import results
from pipeline.core.registry import discover
from pipeline.publish import reproduce


def arguments(parser: argparse.ArgumentParser) -> None:
    options.with_config(parser)
    parser.add_argument("run_a", help="the earlier run's id (see the Environment page)")
    parser.add_argument("run_b", help="the later run's id")
    parser.add_argument("--data-dir", default="site_data")
    parser.add_argument("--out", default=None, help="also write the rows as CSV")


def main(ns: argparse.Namespace) -> int:
    cfg = options.config(ns)
    try:
        workloads = discover()
        frame, speeds, refused, claims = reproduce.report(Path(ns.data_dir), ns.run_a, ns.run_b, cfg["comparison"],
                                                          options.declared(cfg, workloads), workloads)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for line in refused:
        print(f"refused: {line}", file=sys.stderr)
    print(reproduce.table(frame, speeds, ns.run_a, ns.run_b, claims))
    if ns.out:
        results.replace_file(Path(ns.out), frame.to_csv(index=False))
    return 0
