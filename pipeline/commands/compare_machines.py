"""Set every pair of machines side by side: how their shared figures compare, and which claim
verdicts and guide answers differ, each judged a real difference or within the noise."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pipeline.core import results
from pipeline.publish import machines
from pipeline.publish.tables import read_table


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tables", default="site_data/tables")
    parser.add_argument("--out", default="site_data/tables/machine_differences.json")


def main(ns: argparse.Namespace) -> int:
    tables = Path(ns.tables)
    guide = json.loads((tables / "guide.json").read_text()) if (tables / "guide.json").is_file() else []
    found = machines.differences(read_table(tables / "machine_pairs.csv"), read_table(tables / "verdicts.csv"),
                                 guide)
    results.replace_file(Path(ns.out), json.dumps(found, indent=1, allow_nan=False) + "\n")
    for pair in found:
        print(f"{pair['machine_a']} / {pair['machine_b']}: {pair['figures']} shared figures, "
              f"{pair['real']} differ beyond the noise ({pair['faster_on_a']} faster on {pair['machine_a']}, "
              f"{pair['faster_on_b']} on {pair['machine_b']}); {len(pair['claims'])} claim verdicts and "
              f"{len(pair['answers'])} answers differ")
    return 0
