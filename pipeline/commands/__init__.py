"""The commands of ``python -m pipeline``, one module each: its docstring is the command's
help, ``arguments(parser)`` adds its flags and ``main(ns)`` runs it (reading its inputs,
calling the library, printing). ``COMMANDS`` is the one list of them."""

from __future__ import annotations

from types import ModuleType

from pipeline.commands import (
    aggregate,
    budget,
    cells,
    charts,
    check,
    detect,
    ecosystem,
    ergonomics,
    guide,
    merge,
    page_weight,
    pages,
    refresh,
    reproduce_report,
    ripple,
    run,
    run_suite,
    screenshots,
    timer_check,
    variance,
    verdicts,
    verify,
)

#: command name -> its module, in the order ``python -m pipeline --help`` lists them
COMMANDS: dict[str, ModuleType] = {
    "check": check,
    "cells": cells,
    "ripple": ripple,
    "detect": detect,
    "run": run,
    "run-suite": run_suite,
    "budget": budget,
    "verify": verify,
    "reproduce-report": reproduce_report,
    "variance": variance,
    "merge": merge,
    "timer-check": timer_check,
    "aggregate": aggregate,
    "charts": charts,
    "pages": pages,
    "ecosystem": ecosystem,
    "refresh": refresh,
    "verdicts": verdicts,
    "guide": guide,
    "ergonomics": ergonomics,
    "page-weight": page_weight,
    "screenshots": screenshots,
}
