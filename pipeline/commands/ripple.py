"""What a change alters beyond its own files: cells to measure, tables, verdicts, guide scores, pages."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.commands import options
from pipeline.core import config as config_mod
from pipeline.core import freshness
from pipeline.core.registry import discover
from pipeline.measure import hardware
from pipeline.publish import ripple


def arguments(parser: argparse.ArgumentParser) -> None:
    options.with_config(parser)
    parser.add_argument("--base", default=None, metavar="REF",
                        help="compare with the committed files at this git ref (default: the working tree's)")
    parser.add_argument("--docs-dir", default="docs")


def main(ns: argparse.Namespace) -> int:
    cfg = options.config(ns)
    cells = config_mod.check(cfg, source=ns.config)
    planned = freshness.plan(cfg, cells, config_mod.selected_workloads(cfg, ns.config), hardware.machine_id())
    to_measure = [f"{c.workload} {c.framework} {c.mode}: {p.state.reason}" for c, p in planned.items()
                  if not p.state.current]
    workloads = discover()
    found = ripple.ripple(Path(cfg["data_dir"]), Path(ns.docs_dir), cfg["comparison"], cfg["publish"],
                          options.declared(cfg, workloads), workloads, ns.base)
    print(ripple.report(found, to_measure))
    return 0
