"""Every cell of a profile, processes in rounds, without Snakemake (a lent GPU machine)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.commands import options
from pipeline.contract import PROFILES
from pipeline.core import config as config_mod
from pipeline.measure import lifetime
from pipeline.measure.suite import Suite, summary


def arguments(parser: argparse.ArgumentParser) -> None:
    options.with_config(parser)
    parser.add_argument("--profile", default="gpu", choices=PROFILES)
    parser.add_argument("--out", required=True, help="a data folder: results/, machines/, timer_check/, runs/")
    parser.add_argument("--budget-s", type=float, default=None, help="start no process after this many seconds")
    parser.add_argument("--timeout", type=float, default=None, help="per-process timeout (default: the config's)")
    parser.add_argument("--processes", type=int, default=None, help="processes per cell (default: the config's)")
    parser.add_argument("--cold-cache", action="store_true",
                        help="a fresh compile cache for every process (default: later processes reuse the first's)")
    parser.add_argument("--no-timer-check", action="store_true", help="skip the timer check")


def main(ns: argparse.Namespace) -> int:
    lifetime.stop_with_parent()
    overrides = {"profile": ns.profile, **options.overrides(ns.set)}
    if ns.timeout is not None:
        overrides["timeout_s"] = ns.timeout
    if ns.processes is not None:
        overrides["processes"] = {**config_mod.load(Path(ns.config))["processes"], ns.profile: ns.processes}
    cfg = config_mod.load(Path(ns.config), overrides)
    suite = Suite(cfg, Path(ns.out), config_mod.selected_workloads(cfg, ns.config), budget_s=ns.budget_s,
                  warm_cache=not ns.cold_cache, timer_check=not ns.no_timer_check,
                  echo=lambda line: print(line, flush=True))
    log = suite.run()
    print(summary(log))
    print(f"results under {Path(ns.out) / 'results' / suite.machine}; log {suite.log_path}")
    return 0
