"""Load, validate and resolve ``config/config.yaml``.

The JSON schema catches shape errors (an unknown framework or mode is an ``enum``
error naming the field); :func:`check` adds what a schema cannot know: which
workloads exist and which frameworks are installed. The Snakefile and the CLI call
the same functions, so both fail the same way, before any cell runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import psutil
import yaml

from pipeline import REPO_ROOT
from pipeline.core import validation
from pipeline.core.frameworks import FRAMEWORKS
from pipeline.core.registry import Workload, discover

CONFIG_PATH = REPO_ROOT / "config" / "config.yaml"
SCHEMA_PATH = REPO_ROOT / "config" / "config.schema.yaml"


class ConfigError(validation.InputError):
    """A config that cannot run; the message names the file and the field."""


@dataclass(frozen=True)
class Cell:
    workload: str
    framework: str
    mode: str

    @property
    def stem(self) -> str:
        return f"{self.framework}-{self.mode}"


def load(path: Path = CONFIG_PATH, overrides: dict | None = None) -> dict:
    config = yaml.safe_load(Path(path).read_text())
    config.update(overrides or {})
    validate(config, source=str(path))
    return config


def _coerce_command_line_values(config: dict) -> None:
    """``snakemake --config measure=false 'processes={smoke: 1}'`` hands booleans and
    nested values over as strings; read them as YAML scalars, as the file's are."""
    for key in ("measure", "remeasure"):
        if isinstance(config.get(key), str):
            config[key] = yaml.safe_load(config[key])
    for key in ("processes", "comparison"):
        if isinstance(config.get(key), dict):
            config[key] = {k: yaml.safe_load(v) if isinstance(v, str) else v for k, v in config[key].items()}


def validate(config: dict, source: str = str(CONFIG_PATH)) -> None:
    _coerce_command_line_values(config)
    validation.check(config, SCHEMA_PATH, source, ConfigError)


def threads(config: dict) -> int:
    available = len(os.sched_getaffinity(0))
    wanted = config["threads"]
    return available if wanted == "all" else min(int(wanted), available)


def default_memory_limit_mb() -> int:
    """Four fifths of this machine's memory: a runaway cell cannot take the machine down."""
    return int(psutil.virtual_memory().total * 0.8 / 2**20)


def memory_limit_mb(value) -> int:
    return default_memory_limit_mb() if value in ("auto", None) else int(value)


def processes(config: dict) -> int:
    return int(config["processes"][config["profile"]])


#: fresh processes timing each framework's import, per profile, where config says nothing
IMPORT_RUNS = {"smoke": 3, "default": 7, "full": 11, "gpu": 3}


def import_runs(config: dict) -> int:
    return int((config.get("import_runs") or IMPORT_RUNS)[config["profile"]])


def modes_for(config: dict, framework: str) -> list[str]:
    return list(config["modes"].get(framework, FRAMEWORKS[framework].modes))


def selected_workloads(config: dict, source: str = str(CONFIG_PATH)) -> dict[str, Workload]:
    found = discover()
    if config["workloads"] == "all":
        return found
    missing = [w for w in config["workloads"] if w not in found]
    if missing:
        raise ConfigError(
            f"{source}: field workloads: no workload folder named {', '.join(missing)} "
            f"under workloads/ (found: {', '.join(found) or 'none'})"
        )
    return {name: found[name] for name in config["workloads"]}


def check(config: dict, source: str = str(CONFIG_PATH)) -> list[Cell]:
    """Everything that must hold before measuring; returns the cells to run."""
    validate(config, source)
    for framework in config["frameworks"]:
        fw = FRAMEWORKS[framework]
        if config["measure"] and not fw.installed():
            raise ConfigError(
                f"{source}: field frameworks: {framework!r} is selected but the "
                f"package {fw.module!r} is not installed ({fw.install_hint}), or "
                f"leave it out: --config 'frameworks=[...]'"
            )
        for mode in modes_for(config, framework) if config["measure"] else ():
            # a Keras mode runs on another framework, which must be there too
            for needed in fw.needs(mode)[1:]:
                if FRAMEWORKS[needed].installed():
                    continue
                raise ConfigError(
                    f"{source}: field modes.{framework}: mode {mode!r} needs {needed!r}, which is not "
                    f"installed ({FRAMEWORKS[needed].install_hint}), or leave the mode out"
                )
    workloads = selected_workloads(config, source)
    known = discover() if config.get("workload_options") else {}
    for name in config.get("workload_options") or {}:
        if name not in known:
            raise ConfigError(f"{source}: field workload_options.{name}: no workload folder named {name!r}")
    return cells_of(config, workloads)


def cells_of(config: dict, workloads: dict[str, Workload]) -> list[Cell]:
    """The cells of ``workloads`` under the config's frameworks and modes. A workload
    without a framework's implementation file has no cell for it; its page says
    "not implemented"."""
    return [
        Cell(name, framework, mode)
        for name, workload in workloads.items()
        for framework in config["frameworks"] if workload.implements(framework)
        for mode in modes_for(config, framework)
    ]


def workload_options(config: dict, workload: str) -> dict:
    return dict((config.get("workload_options") or {}).get(workload) or {})
