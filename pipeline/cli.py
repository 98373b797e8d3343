"""``python -m pipeline <command>``: every step of the DAG runs on its own too."""

from __future__ import annotations

import argparse
import sys

from pipeline.commands import COMMANDS
from pipeline.core import results
from pipeline.core.config import ConfigError
from pipeline.core.references import AcceleratorError, ModelCostError
from pipeline.core.registry import WorkloadError
from pipeline.core.snapshot import SnapshotError
from pipeline.publish.claims import ClaimError


def parser() -> argparse.ArgumentParser:
    """One subcommand per entry of ``COMMANDS``: its module's docstring as the help, its flags from ``arguments``."""
    p = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    for name, command in COMMANDS.items():
        command.arguments(sub.add_parser(name, help=command.__doc__))
    return p


def main(argv: list[str] | None = None) -> int:
    ns = parser().parse_args(argv)
    try:
        return COMMANDS[ns.command].main(ns)
    except Exception as err:
        if not isinstance(err, _input_errors()):
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2


def _input_errors() -> tuple[type[Exception], ...]:
    """Bad input (named file and field), as opposed to a bug, which keeps its traceback."""
    return (ConfigError, WorkloadError, results.ResultError, ClaimError, SnapshotError, AcceleratorError,
            ModelCostError)
