"""Score every decision-guide scenario on every machine (a table the guide page renders)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.core.registry import discover
from pipeline.publish import guide


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default="site_data")
    parser.add_argument("--out", default="site_data/tables/guide.json")


def main(ns: argparse.Namespace) -> int:
    evaluated = guide.write(Path(ns.data_dir), Path(ns.out), discover())
    print(f"{len(evaluated)} scenario(s) scored -> {ns.out}")
    return 0
