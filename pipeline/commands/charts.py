"""tables -> Altair charts (Vega-Lite JSON + SVG)"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.publish.charts import draw_all
from pipeline.publish.tables import read_tables


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tables", default="site_data/tables")
    parser.add_argument("--out-dir", default="docs/assets/charts")
    parser.add_argument("--stamp", default="docs/assets/charts/index.txt")


def main(ns: argparse.Namespace) -> int:
    written = draw_all(read_tables(Path(ns.tables)), Path(ns.out_dir))
    Path(ns.stamp).write_text("\n".join(written) + "\n")
    print(f"{len(written)} chart(s) -> {ns.out_dir}")
    return 0
