"""Judge every claim of the ledger on every machine's results."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.core import results
from pipeline.core.registry import discover
from pipeline.publish import bounds, claims
from pipeline.publish.tables import read_tables
from pipeline.publish.verdicts import judge, load_ecosystem, summary


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default="site_data")
    parser.add_argument("--claims", default="site_data/claims.yaml")
    parser.add_argument("--out", default="site_data/tables/verdicts.csv")


def main(ns: argparse.Namespace) -> int:
    references = bounds.load_references(Path(ns.data_dir))
    doc = claims.load(Path(ns.claims), discover(), references=references)
    table = judge(doc, read_tables(Path(ns.data_dir) / "tables"), load_ecosystem(Path(ns.data_dir)), references)
    results.replace_file(Path(ns.out), table.to_csv(index=False))
    print(f"{len(doc['claims'])} claim(s), {len(table)} verdict(s) -> {ns.out}: {summary(table)}")
    return 0
