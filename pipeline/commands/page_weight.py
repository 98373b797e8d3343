"""Every page of the built site loaded cold in headless Chromium: requests and bytes against the targets."""

from __future__ import annotations

import argparse

from pipeline.commands import options
from pipeline.publish import browse


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", default="site")


def main(ns: argparse.Namespace) -> int:
    site = options.built_site(ns.site)
    if site is None:
        return 2
    rows = browse.measure(site)
    print(browse.table(rows))
    return 1 if any(r["over"] for r in rows) else 0
