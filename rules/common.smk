# Resolved once at parse time: the checked config, the cells it selects and this
# machine's id. A bad config or workload stops here, before any cell runs.
import glob
import json
import re
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

from pipeline.core import config as pipeline_config
from pipeline.core import freshness
from pipeline.core import quiet as pipeline_quiet
from pipeline.core import results as pipeline_results
from pipeline.core import schedule as pipeline_schedule
from pipeline.core.frameworks import FRAMEWORKS
from pipeline.core.registry import WorkloadError
from pipeline.measure import hardware
from pipeline.measure import provenance as pipeline_provenance

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


def whole_machine():
    """The threads of a job that times something. Run locally, every core Snakemake
    may use, so no other job starts beside it. Through a cluster executor there is
    no --cores: the threads the measured process uses, and the workflow profile
    asks for the node whole (profiles/slurm)."""
    try:
        return workflow.cores
    except WorkflowError:
        return THREADS


# The repository's files the publishing rules read, listed once
ALL_WORKLOADS = sorted(glob.glob("workloads/*/workload.yaml"))
#: the implementation files (the code tabs, the concept map and the line counts show them)
WORKLOAD_CODE = sorted(glob.glob("workloads/*/*.py"))
BACKEND_CODE = sorted(glob.glob("pipeline/measure/backends/*.py"))
TEMPLATES = sorted(glob.glob("pipeline/publish/templates/*.j2"))
NOTEBOOKS = sorted(glob.glob("docs/notebooks/*.ipynb"))
#: what mkdocs reads besides the generated pages
SITE_SOURCES = sorted(["mkdocs.yml", *glob.glob("docs/*.md"), *glob.glob("docs/assets/js/*"),
                       *glob.glob("docs/assets/css/*"), *glob.glob("overrides/*")])
#: the publishing code: an edit to it regenerates every table, chart and page (seconds of
#: work), never a measurement, which depends on the workload and backend files alone
PUBLISH_CODE = sorted(glob.glob("pipeline/publish/*.py") + glob.glob("pipeline/core/*.py")
                      + glob.glob("pipeline/commands/*.py") + ["pipeline/cli.py"])


# a result of another profile than the main one carries it in its name, beside the main results
SUFFIX = "" if config["profile"] == pipeline_results.MAIN_PROFILE else f"@{config['profile']}"


# Staleness by content (pipeline/core/freshness.py): a cell whose stored result is
# current is read as it is; any other is measured. Each cell's stamp is named by its
# key, a digest of what it measures, so a changed key is a missing stamp; a failed
# result adds its own digest, so it stays a to-do. Planning writes nothing.
PLAN = freshness.plan(config, CELLS, WORKLOADS, MACHINE) if config["measure"] else {}
TO_MEASURE = [p.key for p in PLAN.values() if not p.state.current]


def measured_results():
    """Each selected cell as its stamp (when it is to be measured, or was measured
    in this checkout), or else as its current stored result; plus every other
    result stored, from this machine or any other, so a new file anywhere
    re-aggregates. The set stays the same before and after a run: Snakemake
    re-runs a job whose set of inputs changed."""
    if not config["measure"]:
        return sorted(glob.glob(f"{DATA}/results/*/*/*.json"))
    stamps, represented = set(), set()
    for planned in PLAN.values():
        if not planned.state.current or Path(planned.stamp).exists():
            stamps.add(planned.stamp)
            represented.add(str(planned.result))
    return sorted(stamps | stored_besides(f"{DATA}/results/*/*/*.json", represented))


def stored_besides(pattern, made_here):
    """Files already stored that no job of this run writes: a file a job writes is
    represented by that job's stamp."""
    return set(glob.glob(pattern)) - set(made_here)


def stored_or_stamp(stored, stamp):
    """A machine-wide measurement (timer check, ecosystem figures): its stamp when
    measured in this checkout or never stored, else the stored file as it is."""
    return stamp if Path(stamp).exists() or not Path(stored).exists() else stored


def timer_checks():
    """This machine's timer check (its stamp, when measuring) and any stored from other machines."""
    if not config["measure"]:
        return sorted(glob.glob(f"{DATA}/timer_check/*.json"))
    mine = f"{DATA}/timer_check/{MACHINE}.json"
    return sorted({stored_or_stamp(mine, f"build/stamps/timer-check-{MACHINE}.done")}
                  | stored_besides(f"{DATA}/timer_check/*.json", [mine]))


def cell_sources(wildcards):
    """The files a cell's result depends on: its workload's, and those of the
    workloads it uses, so that an edit there re-measures it too."""
    workload = WORKLOADS[wildcards.workload]
    return {f"source{i}": str(path.relative_to(workload.folder.parent.parent))
            for i, path in enumerate(workload.source_files(wildcards.framework))}


def ecosystem_files():
    """This machine's live ecosystem figures (their stamp, when measuring), every
    stored machine's, and the public-source snapshot."""
    snapshot = set(glob.glob(f"{DATA}/ecosystem/snapshot.json"))
    if not config["measure"]:
        return sorted(set(glob.glob(f"{DATA}/ecosystem/live/*.json")) | snapshot)
    mine = f"{DATA}/ecosystem/live/{MACHINE}.json"
    return sorted({stored_or_stamp(mine, f"build/stamps/ecosystem-{MACHINE}.done")}
                  | stored_besides(f"{DATA}/ecosystem/live/*.json", [mine]) | snapshot)


def process_priority(wildcards):
    """A measured process's place in the rounds (rules/measure.smk: PRIORITY)."""
    return PRIORITY.get(((wildcards.workload, wildcards.framework, wildcards.mode), int(wildcards.index)), 1)


def installed_versions():
    """Each framework's installed versions: the ecosystem figures are measured again when one changes."""
    return {name: fw.versions() for name, fw in FRAMEWORKS.items()}
