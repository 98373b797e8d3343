"""Every page of the built site at 1280 and 390 px wide, as PNGs in one folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.commands import options
from pipeline.publish import browse


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", default="site")
    parser.add_argument("--out", default="build/screenshots")


def main(ns: argparse.Namespace) -> int:
    site = options.built_site(ns.site)
    if site is None:
        return 2
    written = browse.screenshots(site, Path(ns.out))
    print(f"{len(written)} screenshot(s) in {ns.out}")
    return 0
