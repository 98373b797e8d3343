"""The commands of ``python -m pipeline``, one module each: its docstring is the command's
help, ``arguments(parser)`` adds its flags and ``main(ns)`` runs it (reading its inputs,
calling the library, printing). ``COMMANDS`` is the one list of them."""

from __future__ import annotations

import importlib
from types import ModuleType

#: command name -> its module under ``pipeline.commands``, in the order ``python -m pipeline --help``
#: lists them; a command imports only its own module, so a measuring job never loads the publishing half
COMMANDS: dict[str, str] = {
    "check": "check",
    "cells": "cells",
    "ripple": "ripple",
    "detect": "detect",
    "run": "run",
    "run-suite": "run_suite",
    "budget": "budget",
    "verify": "verify",
    "bundle": "bundle",
    "accept": "accept",
    "reproduce-report": "reproduce_report",
    "variance": "variance",
    "merge": "merge",
    "timer-check": "timer_check",
    "aggregate": "aggregate",
    "charts": "charts",
    "pages": "pages",
    "ecosystem": "ecosystem",
    "refresh": "refresh",
    "verdicts": "verdicts",
    "guide": "guide",
    "compare-machines": "compare_machines",
    "ergonomics": "ergonomics",
    "page-weight": "page_weight",
    "screenshots": "screenshots",
}


def load(name: str) -> ModuleType:
    """The module of command ``name``."""
    return importlib.import_module(f"pipeline.commands.{COMMANDS[name]}")
