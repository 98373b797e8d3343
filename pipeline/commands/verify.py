"""Check result files as a maintainer checks a pull request: values, profile,
provenance against the recorded commit, equivalence with the machine's reference
cell, FLOP/s against its ceiling. Exit code 1 with one finding per line."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.commands import options
from pipeline.core.registry import discover
from pipeline.publish import verify


def arguments(parser: argparse.ArgumentParser) -> None:
    options.with_config(parser)
    parser.add_argument("--data-dir", default="site_data", help="the results the files are set against")
    parser.add_argument("paths", nargs="*", help="result files (default: every one under the data folder)")


def main(ns: argparse.Namespace) -> int:
    cfg = options.config(ns)
    workloads = discover()
    return verify.main(ns.paths, Path(ns.data_dir), workloads, options.declared(cfg, workloads))
