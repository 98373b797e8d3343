"""List the cells the config selects; with --plan, whether each is measured by
the next run (its stored result is not current) and why, and its DAG stamp."""

from __future__ import annotations

import argparse

from pipeline.commands import options
from pipeline.core import config as config_mod
from pipeline.core import freshness
from pipeline.measure import hardware


def arguments(parser: argparse.ArgumentParser) -> None:
    options.with_config(parser)
    parser.add_argument("--plan", action="store_true", help="also: measured next or current, why, and the stamp")


def main(ns: argparse.Namespace) -> int:
    cfg = options.config(ns)
    cells = config_mod.check(cfg, source=ns.config)
    if not ns.plan:
        for cell in cells:
            print(f"{cell.workload} {cell.framework} {cell.mode}")
        return 0
    planned = freshness.plan(cfg, cells, config_mod.selected_workloads(cfg, ns.config), hardware.machine_id())
    for cell, p in planned.items():
        verdict = "current" if p.state.current else "measure"
        print(f"{cell.workload}\t{cell.framework}\t{cell.mode}\t{verdict}\t{p.stamp}\t{p.state.reason}")
    return 0
