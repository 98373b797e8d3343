"""Gather one machine's results into the files a results pull request carries, and print the
summary to paste into it (with what ``verify`` finds in them)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.commands import options
from pipeline.core import results
from pipeline.core.registry import discover
from pipeline.measure import hardware
from pipeline.publish import contribution, verify


def arguments(parser: argparse.ArgumentParser) -> None:
    options.with_config(parser)
    parser.add_argument("--data-dir", default="site_data")
    parser.add_argument("--machine", help="the machine id (default: this machine's)")
    parser.add_argument("--out", required=True, help="a new folder for the bundle")


def main(ns: argparse.Namespace) -> int:
    cfg = options.config(ns)
    workloads = discover()
    machine = ns.machine or hardware.machine_id()
    written = contribution.bundle(Path(ns.data_dir), machine, Path(ns.out))
    kind = {p: p.relative_to(Path(ns.out) / "site_data").parts[0] for p in written}
    checked = [p for p in written if kind[p] in ("results", "history", "machines")]
    findings, _ = verify.verify(checked, Path(ns.data_dir), workloads, options.declared(cfg, workloads))
    found = [results.load(p, check_place=False) for p in written if kind[p] in ("results", "history")]
    text = contribution.summary(found, machine, findings)
    results.replace_file(Path(ns.out) / "SUMMARY.md", text)
    print(f"{len(written)} files under {Path(ns.out) / 'site_data'}; the summary is {Path(ns.out) / 'SUMMARY.md'}\n")
    print(text)
    return 1 if findings else 0
