"""Validate the config, every workload and every stored result; time nothing."""

from __future__ import annotations

import argparse
import sys

from pipeline.commands import options
from pipeline.core import config as config_mod
from pipeline.core.registry import discover
from pipeline.measure import hardware
from pipeline.publish import inputs


def arguments(parser: argparse.ArgumentParser) -> None:
    options.with_config(parser)


def main(ns: argparse.Namespace) -> int:
    cfg = options.config(ns)
    cells = config_mod.check(cfg, source=ns.config)
    found = inputs.check(cfg, config_mod.selected_workloads(cfg), discover())
    for line in found.refused:
        print(f"error: refused result: {line}", file=sys.stderr)
    if found.refused:
        print(f"error: {len(found.refused)} result file(s) refused; fix or remove them", file=sys.stderr)
        return 2
    workloads = sorted({c.workload for c in cells})
    print(f"ok: config {ns.config} (profile {cfg['profile']}), {len(workloads)} workload(s) "
          f"[{', '.join(workloads)}], {len(cells)} cell(s), machine {hardware.machine_id()}; "
          f"{len(found.ledger['claims'])} claim(s), {len(found.scenarios['scenarios'])} scenario(s)")
    return 0
