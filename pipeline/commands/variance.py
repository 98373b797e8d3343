"""Where the variance of the figures lives (samples, processes, runs), per machine and
workload, from every stored run, with what each level costs in time; and how closely
repeat runs reproduced each candidate estimator of a figure."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.core import results
from pipeline.publish import estimators, variance


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default="site_data")
    parser.add_argument("--profile", default="default", help="the profiles read, comma-separated")
    parser.add_argument("--out", default=None, help="also write the table as CSV")


def main(ns: argparse.Namespace) -> int:
    current, refused = results.load_all(Path(ns.data_dir))
    history, refused_history = results.load_history(Path(ns.data_dir))
    for line in refused + refused_history:
        print(f"refused: {line}", file=sys.stderr)
    shown = variance.published(current, history, ns.profile.split(","))
    frame = variance.table(shown)
    print(variance.text(frame))
    print()
    print(estimators.text(estimators.table(shown)))
    if ns.out:
        results.replace_file(Path(ns.out), frame.to_csv(index=False))
    return 0
