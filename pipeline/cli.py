"""``python -m pipeline <command>``: every step of the DAG runs on its own too."""

from __future__ import annotations

import argparse
import sys

from pipeline.commands import COMMANDS, load
from pipeline.core.validation import InputError


def parser(command: str | None = None) -> argparse.ArgumentParser:
    """One subcommand per entry of ``COMMANDS``: its module's docstring as the help, its flags from
    ``arguments``. Given ``command``, only that one's module is imported (the others are listed by name:
    their help shows only in the overview, which is built when no command is named)."""
    p = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        if command is None or name == command:
            module = load(name)
            module.arguments(sub.add_parser(name, help=module.__doc__))
        else:
            sub.add_parser(name)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    ns = parser(argv[0] if argv and argv[0] in COMMANDS else None).parse_args(argv)
    try:
        return load(ns.command).main(ns)
    except InputError as err:  # bad input names its file and field; a bug keeps its traceback
        print(f"error: {err}", file=sys.stderr)
        return 2

