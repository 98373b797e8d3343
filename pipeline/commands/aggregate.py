"""result files -> pandas tables"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.commands import options
from pipeline.core.registry import discover
from pipeline.publish import aggregate


def arguments(parser: argparse.ArgumentParser) -> None:
    options.with_config(parser)
    parser.add_argument("--data-dir", default="site_data")
    parser.add_argument("--publish", default=None, help="profiles to publish, in order of preference per machine "
                                                        "(default: the config's publish)")
    parser.add_argument("--out-dir", default="site_data/tables")
    parser.add_argument("--threshold", type=float, default=None,
                        help="smallest ratio worded as a difference (default: the config's comparison.threshold)")
    parser.add_argument("--alpha", type=float, default=None,
                        help="significance level of the process test (default: the config's comparison.alpha)")


def main(ns: argparse.Namespace) -> int:
    cfg = options.config(ns)
    comparison = {"threshold": ns.threshold or cfg["comparison"]["threshold"],
                  "alpha": ns.alpha or cfg["comparison"]["alpha"]}
    publish = ns.publish.split(",") if ns.publish else cfg["publish"]
    workloads = discover()
    cells, refused = aggregate.aggregate(Path(ns.data_dir), Path(ns.out_dir), publish, comparison,
                                         options.declared(cfg, workloads), workloads)
    for line in refused:
        print(f"refused: {line}", file=sys.stderr)
    print(f"{len(cells)} cell(s) aggregated, {len(refused)} file(s) refused -> {ns.out_dir}")
    return 0
