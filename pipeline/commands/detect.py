"""Describe this machine and ask each installed framework what devices it sees."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipeline.core import results
from pipeline.measure import harness


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True)


def main(ns: argparse.Namespace) -> int:
    try:
        info = harness.detect()
    except harness.DetectionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    results.write_atomic(Path(ns.out), info)
    print(json.dumps(info, indent=1))
    return 0
