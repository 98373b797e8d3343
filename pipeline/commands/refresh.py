"""Update the public-source snapshot where the network allows; keep stored figures otherwise."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pipeline.measure import ecosystem_refresh


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--snapshot", default="site_data/ecosystem/snapshot.json")


def main(ns: argparse.Namespace) -> int:
    report = ecosystem_refresh.refresh(Path(ns.snapshot))
    print(json.dumps(report, indent=1, default=str))
    return 0
