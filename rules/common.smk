# Resolved once at parse time: the checked config, the cells it selects and this
# machine's id. A bad config or workload stops here, before any cell runs.
import glob
import json
import re
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

from pipeline import config as pipeline_config
from pipeline import hardware
from pipeline import results as pipeline_results
from pipeline.frameworks import FRAMEWORKS
from pipeline.registry import WorkloadError

try:
    CELLS = pipeline_config.check(config, source="config/config.yaml (with --config overrides)")
    WORKLOADS = pipeline_config.selected_workloads(config)
except (pipeline_config.ConfigError, WorkloadError) as err:
    raise WorkflowError(str(err))

PY = sys.executable


def one_of(names) -> str:
    """A wildcard constraint matching exactly these names (none: nothing)."""
    return "|".join(re.escape(n) for n in sorted(set(names))) or "(?!)"


# Only the selected cells can be (re)made: a stored result outside a subset run
# (another workload, framework or mode) is read as it is, never measured again.
SELECTED = {
    "workload": one_of(c.workload for c in CELLS),
    "framework": one_of(c.framework for c in CELLS),
    "mode": one_of(c.mode for c in CELLS),
}
DATA = config["data_dir"]
MACHINE = hardware.machine_id()
THREADS = pipeline_config.threads(config)
ALL_WORKLOADS = sorted(glob.glob("workloads/*/workload.yaml"))


# a result of another profile than the main one carries it in its name, beside the main results
SUFFIX = "" if config["profile"] == pipeline_results.MAIN_PROFILE else f"@{config['profile']}"


def cell_stamp(cell):
    """The cell rule's output: its result file is written in place by the job."""
    return f"build/cells/{MACHINE}/{cell.workload}/{cell.framework}-{cell.mode}{SUFFIX}.done"


def stored_besides(pattern, made_here):
    """Files already stored that no job of this run writes: the files a job writes
    are represented by its stamp, so the set of inputs is the same before and
    after the run (Snakemake re-runs a job whose set of inputs changed)."""
    return set(glob.glob(pattern)) - set(made_here)


def measured_results():
    """This machine's cells (their stamps, when measuring) plus every result already
    stored, from this machine or any other, so a new file anywhere re-aggregates."""
    if not config["measure"]:
        return sorted(glob.glob(f"{DATA}/results/*/*/*.json"))
    written = [str(pipeline_results.result_path(DATA, MACHINE, c.workload, c.framework, c.mode, config["profile"]))
               for c in CELLS]
    return sorted({cell_stamp(c) for c in CELLS} | stored_besides(f"{DATA}/results/*/*/*.json", written))


def timer_checks():
    """This machine's timer check (its stamp, when measuring) and any stored from other machines."""
    if not config["measure"]:
        return sorted(glob.glob(f"{DATA}/timer_check/*.json"))
    mine = f"{DATA}/timer_check/{MACHINE}.json"
    return sorted({f"build/stamps/timer-check-{MACHINE}.done"} | stored_besides(f"{DATA}/timer_check/*.json", [mine]))


def cell_sources(wildcards):
    """The files a cell's result depends on: its workload's, and those of the
    workloads it uses, so that an edit there re-measures it too."""
    workload = WORKLOADS[wildcards.workload]
    return {f"source{i}": str(path.relative_to(workload.folder.parent.parent))
            for i, path in enumerate(workload.source_files(wildcards.framework))}


def retry_flag(wildcards):
    """A failed cell is a to-do: where this machine's stored result for the cell
    failed, a flag touched now makes it older than its inputs, so the cell runs
    again. Cells that succeeded (or are unsupported) are left alone."""
    path = pipeline_results.result_path(DATA, MACHINE, wildcards.workload, wildcards.framework, wildcards.mode,
                                        config["profile"])
    if not pipeline_results.failed(path):
        return []
    flag = Path(f"build/retry/{MACHINE}/{wildcards.workload}/{wildcards.framework}-{wildcards.mode}")
    flag.parent.mkdir(parents=True, exist_ok=True)
    flag.touch()
    return [str(flag)]


def ecosystem_files():
    """This machine's live ecosystem figures (their stamp, when measuring), every
    stored machine's, and the public-source snapshot."""
    snapshot = set(glob.glob(f"{DATA}/ecosystem/snapshot.json"))
    if not config["measure"]:
        return sorted(set(glob.glob(f"{DATA}/ecosystem/live/*.json")) | snapshot)
    mine = f"{DATA}/ecosystem/live/{MACHINE}.json"
    return sorted({f"build/stamps/ecosystem-{MACHINE}.done"} | stored_besides(f"{DATA}/ecosystem/live/*.json", [mine])
                  | snapshot)
