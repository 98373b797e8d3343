"""Time one function with the harness's clock and with independent timers; print both."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.core import results
from pipeline.measure import timer_check


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default=None, help="also write the report as JSON")


def main(ns: argparse.Namespace) -> int:
    report = timer_check.run(ns.rounds)
    if ns.out:
        results.write_atomic(Path(ns.out), report)
    print(timer_check.table(report))
    return 0
