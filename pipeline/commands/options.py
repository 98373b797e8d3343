"""What several commands share: the ``--config``/``--set`` flags and the config they
give, what the repository declares now, and the built site's folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from pipeline.core import config as config_mod
from pipeline.core.registry import discover
from pipeline.publish.tables import Declared
from pipeline.publish.tables import declared as tables_declared


def with_config(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``--config`` and ``--set KEY=VALUE``, as every command that reads the config takes them."""
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, as snakemake --config does")
    return parser


def overrides(pairs: list[str]) -> dict:
    """``--set`` pairs as config keys, each value read as YAML (as snakemake --config reads it)."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--set expects KEY=VALUE, got {pair!r}")
        out[key] = yaml.safe_load(value)
    return out


def config(ns: argparse.Namespace) -> dict:
    """The config ``--config`` names, with the ``--set`` overrides, validated."""
    return config_mod.load(Path(ns.config), overrides(ns.set))


def declared(cfg: dict, workloads: dict | None = None) -> Declared:
    """What the repository declares now, for the tables: the config's and the workloads'
    counts (every workload folder unless ``workloads`` are given)."""
    return tables_declared(cfg, discover() if workloads is None else workloads)


def built_site(folder: str) -> Path | None:
    """The built site's folder, or None (said on stderr) when nothing was built there."""
    site = Path(folder)
    if (site / "index.html").is_file():
        return site
    print(f"error: {site}: no built site here (snakemake, or mkdocs build, writes it)", file=sys.stderr)
    return None
