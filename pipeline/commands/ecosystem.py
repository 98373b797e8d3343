"""Measure each installed framework's footprint, dependencies and cold import time."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.measure import ecosystem_live as live


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True)
    parser.add_argument("--runs", type=int, default=7, help="fresh processes timing each import")


def main(ns: argparse.Namespace) -> int:
    doc = live.measure(ns.runs)
    live.write(Path(ns.out), doc)
    for name, entry in doc["frameworks"].items():
        figures = {k: v.get("value") for k, v in entry.get("figures", {}).items()}
        print(f"{name}: " + (", ".join(f"{k} {v}" for k, v in figures.items()) if entry["installed"]
                             else "not installed"))
    return 0
