"""Workflow tier: Snakemake dry-runs, bad input stopped before any cell runs, and a
real end-to-end smoke run in a copy of the repository that ends in a built site."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import (
    ROOT,
    SNAKEMAKE,
    command_of,
    copy_repo,
    ctrl_c_as_in_a_terminal,
    run,
    with_machine_facts,
    worker_under,
)

from pipeline.core import results
from pipeline.core.frameworks import FRAMEWORKS
from pipeline.measure import hardware

pytestmark = [pytest.mark.workflow, pytest.mark.alone]
MACHINE = hardware.machine_id()
DATA_RE = "site_data"
#: where the measuring rules' stamps go (a cell's result file is written in place)
CELLS_RE = f"build/cells/{MACHINE}"
def planned_jobs(stdout: str) -> dict[str, int]:
    """The 'Job stats' table of a dry-run: rule -> count."""
    table = stdout.split("Job stats:", 1)[1] if "Job stats:" in stdout else ""
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M) if m[1] != "total"}


def smoke_cells(**overrides) -> list:
    from pipeline.core import config as config_mod

    return config_mod.check(config_mod.load(overrides={"profile": "smoke", **overrides}))


def smoke_processes() -> int:
    from pipeline.core import config as config_mod

    return config_mod.load()["processes"]["smoke"]


SMOKE_PROCESSES = smoke_processes()
#: a smoke run whose results the site publishes (and other machines' main results)
SMOKE_SITE = ["profile=smoke", "publish=[smoke,default]"]
#: the end-to-end run's workloads: a training workload in every framework and mode, and the
#: sweep that gives the machine its ceilings. Every cell's measuring protocol runs in the
#: contract tier (tests/workloads/test_contract.py); this run tests what the DAG adds to it
END_TO_END = ["mlp_digits", "matmul"]
END_TO_END_SITE = [*SMOKE_SITE, f"workloads=[{','.join(END_TO_END)}]"]


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    return copy_repo(tmp_path_factory.mktemp("repo"))


#: what `snakemake --lint` may still say, and why we keep it
LINT_ALLOWED = {
    # the pinned CPU stack is installed by nox (requirements/cpu.txt); a GPU user brings their own
    # CUDA builds, which a per-rule environment or container would pin away from them
    "Specify a conda environment or container for each rule.",
    # constants resolved once while parsing: the interpreter running Snakemake (every job uses the
    # same environment) and the config's data folder; as params they would turn a moved checkout or
    # virtual environment into a reason to measure again, where staleness is judged by content
    "Shell command directly uses variable PY from outside of the rule",
    "Shell command directly uses variable DATA from outside of the rule",
}


def test_the_workflow_lints_clean_but_for_the_reasoned_exceptions(repo):
    proc = run([sys.executable, "-m", "snakemake", "--lint"], repo)
    said = proc.stdout + proc.stderr
    found = set(re.findall(r"^    \* (.+?):?$", said, re.M))
    assert "Lints for" in said or "Congratulations" in said, said[-2000:]
    assert found <= LINT_ALLOWED, sorted(found - LINT_ALLOWED)


def test_dry_run_of_the_smoke_profile_plans_every_cell(repo):
    proc = run([*SNAKEMAKE, "-n", "--forceall", "--config", "profile=smoke"], repo)
    assert proc.returncode == 0, proc.stderr
    jobs = planned_jobs(proc.stdout)
    cells = smoke_cells()
    assert jobs["cell"] == len(cells)
    assert jobs["process"] == SMOKE_PROCESSES * len(cells)  # fresh processes per cell in the smoke profile
    for rule in ("detect", "aggregate", "charts", "pages", "site", "all"):
        assert jobs[rule] == 1
    # a machine's stored timer check is used as it is; only a machine without one runs it
    stored = (repo / "site_data" / "timer_check" / f"{MACHINE}.json").exists()
    assert jobs.get("timer_check", 0) == (0 if stored else 1)


@pytest.mark.parametrize(
    "override, message",
    [
        ("frameworks=[torch,mxnet]", "field frameworks.1: 'mxnet' is not one of"),
        ("modes={jax: [pmap]}", "field modes.jax.0: 'pmap' is not one of"),
        ("profile=huge", "field profile: 'huge' is not one of"),
        ("workloads=[nope]", "field workloads: no workload folder named nope"),
    ],
)
def test_bad_config_fails_before_anything_runs(repo, override, message):
    proc = run([*SNAKEMAKE, "--config", override], repo)
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr
    assert "rule cell" not in proc.stdout


def test_pipeline_check_fails_loudly_on_a_broken_workload(tmp_path):
    copy = copy_repo(tmp_path)
    ok = run([sys.executable, "-m", "pipeline", "check"], copy)
    assert ok.returncode == 0, ok.stderr
    decl = copy / "workloads" / "mlp_digits" / "workload.yaml"
    decl.write_text(decl.read_text().replace("task: training", "task: juggling"))
    bad = run([sys.executable, "-m", "pipeline", "check"], copy)
    assert bad.returncode == 2
    assert "workloads/mlp_digits/workload.yaml: field task: 'juggling' is not one of" in bad.stderr
    snake = run([*SNAKEMAKE, "-n"], copy)
    assert snake.returncode != 0 and "field task" in snake.stdout + snake.stderr


def test_end_to_end_smoke_run_builds_the_site(machine_facts, tmp_path):
    # the machine-wide rules (detect, timer check, ecosystem figures) ran once for the
    # session (the machine_facts fixture, through the same DAG); this run measures every cell
    # of its workloads, and the site shows them beside the other machines' results of all
    repo = with_machine_facts(copy_repo(tmp_path), machine_facts)
    data = repo / "site_data"
    shutil.rmtree(data / "results" / MACHINE, ignore_errors=True)
    # another machine's result must survive untouched and appear on the site,
    # and a corrupt file must be refused without stopping anything
    foreign_dir = data / "results" / "other-machine-8c" / "mlp_digits"
    foreign_dir.mkdir(parents=True, exist_ok=True)
    sample = json.loads((ROOT / "tests" / "fixtures" / "other-machine-result.json").read_text())
    (foreign_dir / "jax-jit@smoke.json").write_text(json.dumps(sample))  # the fixture is a smoke result
    corrupt = foreign_dir / "torch-eager.json"
    corrupt.write_text("{ truncated")
    foreign_before = (foreign_dir / "jax-jit@smoke.json").read_text()

    # smoke results are stored beside the main ones (named @smoke); this run publishes
    # them, and the other machine's default results
    proc = run([*SNAKEMAKE, "--config", *END_TO_END_SITE], repo)
    assert proc.returncode == 0, proc.stderr[-4000:]

    # the workloads at the smoke size: every cell ok, with its processes
    mine = sorted((data / "results" / MACHINE).glob("*/*.json"))
    assert sorted(f"{p.parent.name}/{p.stem}" for p in mine) == sorted(
        f"{c.workload}/{c.framework}-{c.mode}@smoke" for c in smoke_cells(workloads=END_TO_END))
    stored = {f"{p.parent.name}/{p.stem}": json.loads(p.read_text()) for p in mine}
    # ok, or a mode the implementation refuses with its reason (Keras' distribution API off JAX)
    assert not {k: r["reason"] for k, r in stored.items()
                if r["status"] != "ok" and not (r["status"] == "unsupported" and r["reason"])}
    assert sum(r["status"] == "ok" for r in stored.values()) > len(stored) * 0.9
    assert all(len(r["processes"]) == SMOKE_PROCESSES for r in stored.values())
    # one run id, set when the run started, in every process it measured
    assert len({p["run_id"] for r in stored.values() for p in r["processes"]}) == 1
    # Snakemake followed the planned order: a round at a time, and the cells a claim
    # compares one to one ran back to back (pipeline/core/schedule.py)
    started = sorted((p["started_at"], p["index"], key) for key, r in stored.items() for p in r["processes"])
    assert [index for _, index, _ in started] == sorted(index for _, index, _ in started)
    ran = [key for _, index, key in started if index == 0]
    # (the configuration lists tf.function after eager: the claim tf-function-faster-than-eager-mlp reorders them)
    assert ran.index("mlp_digits/tensorflow-eager@smoke") - ran.index("mlp_digits/tensorflow-function@smoke") == 1, ran
    # every operations case either ran or says why not; none is wrong
    cases = {(k, name): c for k, r in stored.items() for name, c in (r.get("cases") or {}).items()}
    assert not [key for key, c in cases.items() if c["status"] not in ("ok", "unsupported")], cases
    assert all(c["reason"] for c in cases.values() if c["status"] == "unsupported")
    assert (foreign_dir / "jax-jit@smoke.json").read_text() == foreign_before
    assert corrupt.read_text() == "{ truncated"

    page = (repo / "site" / "workloads" / "mlp_digits.html").read_text()
    assert f"On <code>{MACHINE}</code>" in page and "On <code>other-machine-8c</code>" in page
    assert page.count("torch.compile") >= 2 and "tf.function(jit_compile=True)" in page
    env_page = (repo / "site" / "environment.html").read_text()
    assert "Refused result files" in env_page and "torch-eager.json" in env_page
    assert (repo / "docs" / "assets" / "charts" / "mlp_digits" / MACHINE / "train_throughput.svg").is_file()
    assert (repo / "docs" / "assets" / "charts" / "matmul" / MACHINE / "cases_throughput.svg").is_file()
    # the matmul sweep gives this machine a ceiling, and training pages a utilisation
    ceilings = (data / "tables" / "ceilings.csv").read_text()
    assert MACHINE in ceilings and "fp32" in ceilings
    assert "Utilisation is the achieved training FLOP/s" in page

    # the ecosystem rule's figures for this machine are published; every claim got a verdict, and
    # every claim on this run's workloads or on this machine's install sizes got one on this machine
    live = json.loads((data / "ecosystem" / "live" / f"{MACHINE}.json").read_text())
    assert live["machine_id"] == MACHINE and live["frameworks"]["torch"]["installed"]
    assert live["frameworks"]["torch"]["figures"]["import_time_s"]["value"] > 0
    verdicts = pd.read_csv(data / "tables" / "verdicts.csv")
    ledger = yaml.safe_load((data / "claims.yaml").read_text())["claims"]
    assert set(verdicts["claim"]) == {c["id"] for c in ledger}
    judged = set(verdicts.loc[verdicts["machine_id"] == MACHINE, "claim"])
    on_run = {c["id"] for c in ledger if (c.get("predicate") or {}).get("workload") in END_TO_END}
    assert on_run and on_run | {f"{fw}-install-size" for fw in ("torch", "tensorflow", "jax")} <= judged, judged
    for name in ("claims", "guide", "ecosystem", "faq", "ergonomics", "concepts", "notebook"):
        assert (repo / "site" / f"{name}.html").is_file(), name
    assert (repo / "site" / "notebooks" / "redraw_a_chart.html").is_file()
    assert f"<code>{MACHINE}</code>" in (repo / "site" / "ecosystem.html").read_text()

    # nothing changed: nothing to do
    again = run([*SNAKEMAKE, "-n", "--config", *END_TO_END_SITE], repo)
    assert "Nothing to be done" in again.stdout + again.stderr, again.stdout
    # a fresh clone of this tree (no build/, no .snakemake/, new file times) measures
    # nothing: staleness is judged by content
    clone = tmp_path.parent / f"{tmp_path.name}-clone"
    shutil.copytree(repo, clone, ignore=shutil.ignore_patterns("build", ".snakemake", "site", "logs"))
    fresh = run([*SNAKEMAKE, "-n", "--config", *END_TO_END_SITE], clone)
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    fresh_jobs = planned_jobs(fresh.stdout)
    assert not {"process", "cell", "timer_check", "ecosystem", "detect"} & set(fresh_jobs), fresh.stdout
    # editing one implementation re-runs only that framework's cells and what follows (the
    # cells of a workload that uses another hash its files in too: tests/core/test_registry.py)
    impl = repo / "workloads" / "mlp_digits" / "tensorflow_impl.py"
    impl.write_text(impl.read_text() + "\n# an edit\n")
    plan = run([*SNAKEMAKE, "-n", "--config", *END_TO_END_SITE], repo)
    jobs = planned_jobs(plan.stdout)
    assert jobs.get("cell") == 3 and jobs.get("process") == 3 * SMOKE_PROCESSES, plan.stdout
    assert "detect" not in jobs
    rerun = set(re.findall(rf"output: {CELLS_RE}/(\w+)/([\w-]+)@smoke\.\w+\.done", plan.stdout))
    assert rerun == {("mlp_digits", f"tensorflow-{m}") for m in ("eager", "function", "xla")}, plan.stdout


FAULTS = {"crashes": "crash", "diverges": "nan", "hangs": "hang", "hogs_memory": "hog"}


def test_failing_cells_are_recorded_and_never_take_others_down(machine_facts, tmp_path):
    """Test-only workloads that crash, produce NaN, hang and exhaust memory: the DAG
    finishes, the site shows four failures with their reasons, every other result is
    intact, and a re-run plans only the failed cells."""
    repo = with_machine_facts(copy_repo(tmp_path), machine_facts)
    from mkdocs.utils.yaml import yaml_load

    nav = yaml_load((repo / "mkdocs.yml").read_text())["nav"]
    for name, behaviour in FAULTS.items():
        folder = repo / "workloads" / name
        shutil.copytree(ROOT / "tests" / "fixtures" / "faulty", folder)
        spec = yaml.safe_load((folder / "workload.yaml").read_text())
        spec["profiles"]["smoke"]["size"]["behaviour"] = behaviour
        (folder / "workload.yaml").write_text(yaml.safe_dump(spec))
        nav[1]["Workloads"].append({name: f"workloads/{name}.md"})
    mkdocs = (repo / "mkdocs.yml").read_text()
    (repo / "mkdocs.yml").write_text(mkdocs.split("\nnav:")[0] + "\n" + yaml.safe_dump({"nav": nav})
                                     + "\nmarkdown_extensions:" + mkdocs.split("\nmarkdown_extensions:")[1])
    # other machines' results, which no run here may touch
    others = {p: p.read_text() for p in (repo / "site_data" / "results").rglob("*.json")
              if f"/{MACHINE}/" not in str(p)}
    # the faults beside one healthy workload: every other cell runs in the contract tier
    config = [*SMOKE_SITE, f"workloads=[mlp_digits,{','.join(FAULTS)}]", "frameworks=[torch]",
              "modes={torch: [eager]}", "timeout_s=25", "memory_limit_mb=1500",
              "processes={smoke: 1, default: 3, full: 3}"]

    proc = run([*SNAKEMAKE, "--config", *config], repo)
    assert proc.returncode == 0, proc.stderr[-4000:]

    results_dir = repo / "site_data" / "results" / MACHINE
    status = {name: json.loads((results_dir / name / "torch-eager@smoke.json").read_text())["status"]
              for name in FAULTS}
    assert status == {"crashes": "crashed", "diverges": "non-finite", "hangs": "timeout",
                      "hogs_memory": "out-of-memory"}
    assert json.loads((results_dir / "mlp_digits" / "torch-eager@smoke.json").read_text())["status"] == "ok"
    assert all(p.read_text() == text for p, text in others.items()), "another machine's results changed"
    for name, shown in [("crashes", "crashed"), ("diverges", "non-finite"), ("hangs", "timeout"),
                        ("hogs_memory", "out-of-memory")]:
        page = (repo / "site" / "workloads" / f"{name}.html").read_text()
        assert f"<strong>{shown}</strong>" in page, name

    plan = run([*SNAKEMAKE, "-n", "--config", *config], repo)
    rerun = set(re.findall(rf"output: {CELLS_RE}/(\w+)/torch-eager@smoke\.\w+\.done", plan.stdout))
    assert rerun == set(FAULTS), plan.stdout


def test_a_subset_run_remakes_only_its_own_cells(repo):
    """Stored cells outside the selected workloads, frameworks or modes are read as
    they are: a smoke run of two frameworks of one workload plans only those cells."""
    proc = run([*SNAKEMAKE, "-n", "--config", "profile=smoke", "workloads=[mlp_digits]", "frameworks=[torch,jax]"],
               repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    planned = set(re.findall(rf"output: {CELLS_RE}/(\w+)/([\w-]+)@smoke\.\w+\.done", proc.stdout))
    assert planned == {("mlp_digits", "torch-eager"), ("mlp_digits", "torch-compile"), ("mlp_digits", "jax-jit")}
    assert not re.search(rf"output: {CELLS_RE}/\w+/[\w-]+\.\w+\.done", proc.stdout)
    proc = run([*SNAKEMAKE, "-n", "--config", "modes={torch: [eager]}", "frameworks=[torch]", "remeasure=true"], repo)
    planned = set(re.findall(rf"output: {CELLS_RE}/\w+/([\w-]+)\.\w+\.done", proc.stdout))
    assert planned == {"torch-eager"}, proc.stdout[-2000:]


def test_a_smoke_run_of_a_subset_changes_no_stored_result(machine_facts, tmp_path):
    """A real run of one cell at the smoke size: every stored result (this machine's
    default ones included) keeps its exact bytes, the smoke result is stored beside
    them, and the site still publishes the default profile."""
    import hashlib

    repo = with_machine_facts(copy_repo(tmp_path), machine_facts)
    stored = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (repo / "site_data" / "results").rglob("*.json")}
    cells_before = pd.read_csv(repo / "site_data" / "tables" / "cells.csv")
    proc = run([*SNAKEMAKE, "--config", "profile=smoke", "workloads=[mlp_digits]", "frameworks=[jax]"], repo)
    assert proc.returncode == 0, proc.stderr[-3000:]
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (repo / "site_data" / "results").rglob("*.json")}
    assert {p: h for p, h in after.items() if p in stored} == stored
    assert sorted(p.name for p in set(after) - set(stored)) == ["jax-jit@smoke.json"]
    cells_after = pd.read_csv(repo / "site_data" / "tables" / "cells.csv")
    assert set(cells_after["profile"]) == {"default"} and len(cells_after) == len(cells_before)


def test_site_only_run_measures_nothing(repo):
    """`nox -s site`: rebuild pages from stored results, no framework needed."""
    proc = run([*SNAKEMAKE, "-n", "--config", "measure=false", "--forcerun", "aggregate"], repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    jobs = planned_jobs(proc.stdout)
    assert "process" not in jobs and "cell" not in jobs and "timer_check" not in jobs and "ecosystem" not in jobs
    assert jobs["aggregate"] == 1 and jobs["site"] == 1


#: the GPU rehearsal's workloads: the command's machinery (rounds, the shared compile cache,
#: a missing framework) on one of them; every cell of every workload runs in the smoke run above
REHEARSED = ["mlp_digits"]
REHEARSED_SET = f"workloads=[{','.join(REHEARSED)}]"


def test_gpu_run_rehearsed_on_this_cpu(tmp_path, capsys):
    """The prepared GPU command, `run-suite`, on this CPU at the smoke size with
    TensorFlow hidden as on the GPU machine's image, two processes per cell so the
    rounds and the shared compile cache are exercised: every cell the image can run
    is ok, the others say what is missing, and the normal aggregation, `check`'s
    result loading and `budget --log` accept what it wrote. Its duration is printed."""
    out = tmp_path / "gpu-rehearsal"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests" / "fixtures" / "blocked_imports")}
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "run-suite", "--profile", "smoke", "--processes", "2",
         "--timeout", "600", "--set", REHEARSED_SET, "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=3600, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    stored, refused = results.load_all(out)
    assert refused == []
    expected = {(c.workload, c.framework, c.mode) for c in smoke_cells() if c.workload in REHEARSED}
    assert {(r["workload"], r["framework"], r["mode"]) for r in stored} == expected
    def needs_tensorflow(r: dict) -> bool:
        return "tensorflow" in FRAMEWORKS[r["framework"]].needs(r["mode"])

    missing = [r for r in stored if needs_tensorflow(r)]
    assert missing and all(r["status"] == "unsupported" for r in missing)
    assert {r["reason"] for r in missing} == {"tensorflow is not installed on this machine"}
    measured = [r for r in stored if not needs_tensorflow(r)]
    assert {r["status"] for r in measured} == {"ok"}, {(r["workload"], r["framework"], r["mode"]): r["reason"]
                                                       for r in measured if r["status"] != "ok"}
    assert all([p["index"] for p in r["processes"]] == [0, 1] for r in measured)
    # in rounds: every cell's first process before any second one
    log = json.loads((out / "runs" / f"{MACHINE}-smoke.json").read_text())
    indices = [p["index"] for p in log["processes"]]
    assert indices == sorted(indices) and len(indices) == 2 * len(measured)
    # the second process of a compiled cell found the first one's compile cache
    for workload in REHEARSED:
        for cell in ("torch-compile", "jax-jit"):
            result = next(r for r in measured if r["workload"] == workload and f"{r['framework']}-{r['mode']}" == cell)
            assert result["processes"][0]["compile_cache"].startswith("cold"), (workload, cell)
            assert result["processes"][1]["compile_cache"].startswith("warm"), (workload, cell)
            assert len(result["metrics"]["time_to_first_step"]["per_process"]) == 1
            assert result["metrics"]["time_to_first_step_warm_cache"]["value"] > 0
    assert (out / "machines" / f"{MACHINE}.json").is_file() and (out / "timer_check" / f"{MACHINE}.json").is_file()

    # what a maintainer runs on the results when they come back: every check passes,
    # and every measured cell carries its equivalence evidence
    checked = run([sys.executable, "-m", "pipeline", "verify", "--data-dir", str(out)], ROOT)
    assert checked.returncode == 0 and '"notes": 0' in checked.stdout, checked.stdout[-3000:]
    tables = tmp_path / "tables"
    agg = run([sys.executable, "-m", "pipeline", "aggregate", "--data-dir", str(out), "--out-dir", str(tables),
               "--publish", "smoke"], ROOT)
    assert agg.returncode == 0 and "0 file(s) refused" in agg.stdout, agg.stdout + agg.stderr
    assert len(pd.read_csv(tables / "cells.csv")) == len(expected)
    plan = run([sys.executable, "-m", "pipeline", "budget", "--log", str(out / "runs" / f"{MACHINE}-smoke.json"),
                "--budget-s", "420", "--set", REHEARSED_SET], ROOT)
    assert plan.returncode == 0 and "Estimate with the log's start-up and compile times" in plan.stdout, plan.stdout
    with capsys.disabled():  # the rehearsal's duration and the budget it implies, in CI's log
        print(f"\nGPU rehearsal on {MACHINE} (smoke size, 2 processes per cell): {log['wall_s']:.0f} s; "
              f"budget estimate for the gpu profile with these overheads:\n{plan.stdout}")


def test_stopping_snakemake_leaves_nothing_running_and_the_plain_command_resumes(machine_facts, tmp_path):
    """Ctrl-C to the run's process group, or SIGKILL to Snakemake alone, while a cell's
    worker runs: nothing of the run survives, no result is written half-way, and the
    README's command (after `--unlock`, which a SIGKILL makes necessary) resumes."""
    import signal

    import psutil

    repo = with_machine_facts(copy_repo(tmp_path), machine_facts)
    folder = repo / "workloads" / "hangs"
    shutil.copytree(ROOT / "tests" / "fixtures" / "faulty", folder)
    spec = yaml.safe_load((folder / "workload.yaml").read_text())
    spec["profiles"]["smoke"]["size"]["behaviour"] = "hang"
    (folder / "workload.yaml").write_text(yaml.safe_dump(spec))
    result = repo / "site_data" / "results" / MACHINE / "hangs" / "torch-eager@smoke.json"
    config = ["profile=smoke", "workloads=[hangs]", "frameworks=[torch]", "modes={torch: [eager]}"]
    listed = run([sys.executable, "-m", "pipeline", "cells", "--plan", *(f"--set={c}" for c in config)], repo)
    assert listed.returncode == 0, listed.stderr
    (target,) = [line.split("\t")[4] for line in listed.stdout.splitlines()]

    for how in ("SIGINT to the process group", "SIGKILL to snakemake"):
        log = tmp_path / f"snakemake-{how.split()[0]}.log"
        with open(log, "w") as said:
            snake = subprocess.Popen([*SNAKEMAKE, "--config", *config, "timeout_s=600", "--", target], cwd=repo,
                                     start_new_session=True, stdout=said, stderr=subprocess.STDOUT,
                                     preexec_fn=ctrl_c_as_in_a_terminal)
        tree = psutil.Process(snake.pid)
        worker_under(tree)
        run_tree = tree.children(recursive=True)
        if how.startswith("SIGINT"):
            os.killpg(snake.pid, signal.SIGINT)
        else:
            snake.kill()
        try:
            snake.wait(timeout=120)
        except subprocess.TimeoutExpired:
            left = [command_of(p) for p in [tree, *tree.children(recursive=True)] if p.is_running()]
            os.killpg(snake.pid, signal.SIGKILL)
            pytest.fail(f"{how}: Snakemake still running after 120 s: {left}\n{log.read_text()[-3000:]}")
        _, alive = psutil.wait_procs(run_tree, timeout=60)
        assert alive == [], f"{how}: still running: {[command_of(p) for p in alive]}"
        assert not (repo / target).exists() and not result.exists()

    assert run([*SNAKEMAKE, "--unlock", "--config", *config, "--", target], repo).returncode == 0
    resumed = run([*SNAKEMAKE, "--config", *config, "timeout_s=5", "--", target], repo)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert json.loads(result.read_text())["status"] == "timeout"
