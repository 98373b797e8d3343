"""Workflow tier: the DAG through Slurm. A one-node cluster on this machine
(tests/slurm_cluster.py) runs the README's Slurm commands, with a smoke-sized
subset appended: every cell ok, no two timed jobs overlapping in time, the
table rows a local run of the subset gives, and the GPU profile asking Slurm for
a GPU per measured process."""

from __future__ import annotations

import datetime as dt
import json
import re
import shlex
import sys
from pathlib import Path

import pandas as pd
import pytest
from helpers import ROOT, copy_repo, run, with_machine_facts
from slurm_cluster import LocalCluster, missing

from pipeline.measure import hardware

pytestmark = [pytest.mark.workflow, pytest.mark.alone]
#: a smoke-sized subset: two frameworks, one cell each, one process per cell
SUBSET = ["profile=smoke", "workloads=[mlp_digits]", "frameworks=[torch,jax]",
          "modes={torch: [eager], jax: [jit]}", "publish=[smoke]"]
TARGET = "build/stamps/aggregate.done"
#: the test's only other addition: poll the queue every 2 s, not Snakemake's 10 and the
#: plugin's first 40, so a chain of short jobs is not mostly waiting
POLL = ["--seconds-between-status-checks", "2", "--slurm-init-seconds-before-status-checks", "2"]


def readme_commands() -> list[list[str]]:
    """The Snakemake commands of the README's "On a Slurm cluster" section, in order."""
    text = (ROOT / "README.md").read_text()
    section = text.split("### On a Slurm cluster", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", section, re.S):
        for line in block.splitlines():
            line = line.split("  #", 1)[0].strip()
            if line.startswith("snakemake "):
                commands.append(shlex.split(line))
    return commands


def with_subset(command: list[str], subset: list[str] = SUBSET) -> list[str]:
    """The README's command run by this interpreter, the subset's config appended to its
    own --config (later items override earlier ones) and the target last."""
    cmd = [sys.executable, "-m", *command, *POLL]
    if "--config" in cmd:
        at = cmd.index("--config") + 1
        while at < len(cmd) and not cmd[at].startswith("-"):
            at += 1
        cmd[at:at] = subset
    else:
        cmd += ["--config", *subset]
    return [*cmd, "--", TARGET]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    absent = missing()
    if absent:
        pytest.skip(f"Slurm is not installed here ({', '.join(absent)}); `nox -s tests` installs it as root")
    local = LocalCluster(tmp_path_factory.mktemp("slurm"))
    try:
        local.start()
        yield local
    finally:
        local.stop()


def intervals(data: Path) -> list[tuple[dt.datetime, dt.datetime, str]]:
    """Every measured attempt's start and end, from the stored results."""
    out = []
    for path in (data / "results").rglob("*@smoke.json"):
        for proc in json.loads(path.read_text())["processes"]:
            for attempt in proc.get("attempts") or [proc]:
                out.append((dt.datetime.fromisoformat(attempt["started_at"]),
                            dt.datetime.fromisoformat(attempt["ended_at"]), path.name))
    return sorted(out)


def test_the_readme_names_a_cpu_and_a_gpu_slurm_command():
    commands = readme_commands()
    profiles = [c[c.index("--workflow-profile") + 1] for c in commands if "--workflow-profile" in c]
    assert profiles == ["profiles/slurm", "profiles/slurm-gpu"], commands


def test_the_smoke_dag_runs_through_slurm_like_a_local_run(cluster, machine_facts, tmp_path):
    through = with_machine_facts(copy_repo(tmp_path / "slurm"), machine_facts)
    proc = run(with_subset(readme_commands()[0]), through, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:] + cluster.log_tail()
    # every job went through Slurm, the timed ones on a whole node
    assert "Using executor plugin slurm" in proc.stderr or "slurm" in proc.stderr.lower()
    data = through / "site_data"
    machine = hardware.machine_id()
    stored = sorted((data / "results" / machine / "mlp_digits").glob("*@smoke.json"))
    assert [p.name for p in stored] == ["jax-jit@smoke.json", "torch-eager@smoke.json"]
    for path in stored:
        result = json.loads(path.read_text())
        assert result["status"] == "ok", (path.name, result["reason"])
    # exclusive nodes: no two measured processes ran at the same time
    spans = intervals(data)
    assert len(spans) >= 2
    for (_, end, first), (start, _, second) in zip(spans, spans[1:], strict=False):
        assert start >= end, f"{first} and {second} overlapped: one ended {end}, the other started {start}"
    # the table a local run of the subset gives (the subset and end-to-end runs check that one):
    # one ok row per cell of the subset on this machine, nothing else
    key = ["machine_id", "workload", "framework", "mode", "profile", "status"]
    table = pd.read_csv(data / "tables" / "cells.csv")[key]
    assert sorted(map(tuple, table.to_numpy().tolist())) == [
        (machine, "mlp_digits", "jax", "jit", "smoke", "ok"), (machine, "mlp_digits", "torch", "eager", "smoke", "ok")]


def test_the_gpu_profile_asks_slurm_for_a_gpu_per_measured_process(cluster, machine_facts, tmp_path):
    repo = with_machine_facts(copy_repo(tmp_path / "gpu"), machine_facts)
    # one cell is enough to see what a measured process asks for
    cmd = with_subset(readme_commands()[1], [*SUBSET, "frameworks=[torch]"])
    cmd[cmd.index("--"):cmd.index("--")] = ["--verbose"]
    proc = run(cmd, repo, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:] + cluster.log_tail()
    calls = [line for line in (proc.stdout + proc.stderr).splitlines() if "sbatch call" in line]
    measured = [c for c in calls if "rule_process" in c or "process" in c.split("--job-name", 1)[-1][:80]]
    assert measured and all("--gpus=1" in c and "--exclusive" in c for c in measured), calls
    publishing = [c for c in calls if "rule_aggregate" in c]
    assert publishing and not any("--gpus" in c or "--exclusive" in c for c in publishing), calls
