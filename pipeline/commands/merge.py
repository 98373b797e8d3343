"""Combine one-process results written by separate jobs into the cell's result file."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.measure import harness


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True)
    parser.add_argument("inputs", nargs="+")


def main(ns: argparse.Namespace) -> int:
    print(harness.describe(harness.merge_files([Path(p) for p in ns.inputs], Path(ns.out))))
    return 0
