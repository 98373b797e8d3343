"""The 5 ms rule and the compute (and, from a run's log, overhead) estimate of a profile."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pipeline.commands import options
from pipeline.contract import PROFILES
from pipeline.core import config as config_mod
from pipeline.core import references
from pipeline.measure import budget


def arguments(parser: argparse.ArgumentParser) -> None:
    options.with_config(parser)
    parser.add_argument("--profile", default="gpu", choices=PROFILES)
    parser.add_argument("--accelerator", default="nvidia-h200", help="an entry of the accelerators table")
    parser.add_argument("--accelerators", default="site_data/accelerators.yaml")
    parser.add_argument("--frameworks", default="torch,jax,keras",
                        help="the frameworks the accelerator machine has (the H200 image has no TensorFlow)")
    parser.add_argument("--log", default=None, help="a run-suite log: its per-process durations as overheads")
    parser.add_argument("--budget-s", type=float, default=None, help="the budget to set the estimate against")


def main(ns: argparse.Namespace) -> int:
    cfg = config_mod.load(Path(ns.config), {"profile": ns.profile, "measure": False,
                                            "frameworks": ns.frameworks.split(","), **options.overrides(ns.set)})
    accelerator = budget.accelerator(references.load_accelerators(Path(ns.accelerators)), ns.accelerator,
                                     ns.accelerators)
    log = json.loads(Path(ns.log).read_text()) if ns.log else None
    cells = budget.runnable(config_mod.check(cfg, source=ns.config), cfg["frameworks"])
    rows = budget.plan(config_mod.selected_workloads(cfg), cells, ns.profile, config_mod.processes(cfg), accelerator,
                       log)
    print(budget.table(rows, accelerator, ns.budget_s))
    return 0 if all(r["meets_5ms"] for r in rows) else 1
