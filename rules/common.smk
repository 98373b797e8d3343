# Resolved once at parse time: the checked config, the cells it selects and this
# machine's id. A bad config or workload stops here, before any cell runs.
import glob
import sys

from snakemake.exceptions import WorkflowError

from pipeline import config as pipeline_config
from pipeline import hardware
from pipeline.registry import WorkloadError

try:
    CELLS = pipeline_config.check(config, source="config/config.yaml (with --config overrides)")
    WORKLOADS = pipeline_config.selected_workloads(config)
except (pipeline_config.ConfigError, WorkloadError) as err:
    raise WorkflowError(str(err))

PY = sys.executable
DATA = config["data_dir"]
MACHINE = hardware.machine_id()
THREADS = pipeline_config.threads(config)
ALL_WORKLOADS = sorted(glob.glob("workloads/*/workload.yaml"))


def cell_result(cell):
    return f"{DATA}/results/{MACHINE}/{cell.workload}/{cell.framework}-{cell.mode}.json"


def measured_results():
    """This machine's cells (when measuring) plus every result already stored,
    from this machine or any other, so a new file anywhere re-aggregates."""
    mine = [cell_result(c) for c in CELLS] if config["measure"] else []
    stored = glob.glob(f"{DATA}/results/*/*/*.json")
    return sorted(set(mine) | set(stored))


def cell_sources(wildcards):
    folder = f"workloads/{wildcards.workload}"
    return {
        "declaration": f"{folder}/workload.yaml",
        "neutral": f"{folder}/workload.py",
        "implementation": f"{folder}/{wildcards.framework}_impl.py",
    }
