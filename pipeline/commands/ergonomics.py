"""Lines of code and distinct framework APIs per workload and framework, and the lines
that change from a single-device implementation to its data-parallel one (tables)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.core.registry import discover
from pipeline.publish import ergonomics, scale_out


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=None, help="also write the table as CSV, and scale_out.json beside it")


def main(ns: argparse.Namespace) -> int:
    workloads = discover()
    table = ergonomics.write(Path(ns.out), workloads) if ns.out else ergonomics.table(workloads)
    print(table.drop(columns=["apis"]).to_string(index=False))
    changes = (scale_out.write(Path(ns.out).with_name("scale_out.json"), workloads) if ns.out
               else scale_out.table(workloads))
    print(changes.drop(columns=["diff", "single_file", "file"]).to_string(index=False))
    return 0
