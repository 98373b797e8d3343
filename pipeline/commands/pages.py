"""tables, charts and results -> Markdown pages"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.core.registry import discover
from pipeline.publish.pages import write_pages


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default="site_data")
    parser.add_argument("--docs-dir", default="docs")


def main(ns: argparse.Namespace) -> int:
    written = write_pages(Path(ns.data_dir), Path(ns.docs_dir), discover())
    print(f"{len(written)} page(s) written: {', '.join(str(p) for p in written)}")
    return 0
