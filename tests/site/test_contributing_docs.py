"""Unit tier: every rule of the workload contract is written where a contributor reads it,
from the code that holds it. The Contributing page includes the metric list and the
per-framework batch conversion generated from the code; every workload page shows its
facts; ``python -m pipeline run --help`` says what its exit code means."""

from __future__ import annotations

import ast
import csv

import pytest
from helpers import ROOT

from pipeline import cli
from pipeline.commands import run as run_command
from pipeline.core import catalogue
from pipeline.core.frameworks import FRAMEWORKS
from pipeline.core.registry import discover
from pipeline.publish import contributing, escaping, pages

CONTRIBUTING = ROOT / "docs" / "contributing.md"
GENERATED = ROOT / "docs" / "generated"
ALL_METRICS = [*catalogue.TRAINING, *catalogue.CASE]


def render(template: str, context: dict) -> str:
    return pages._env().get_template(template).render(**context)


# -- metrics -------------------------------------------------------------------------------------

def test_every_accepted_metric_name_says_what_it_stands_for():
    accepted = contributing.accepted_metric_names()
    assert accepted, "the workload schema lists no metric names"
    assert set(contributing.DECLARED) == set(accepted), (
        "pipeline/publish/contributing.py DECLARED and the workload schema's metrics enum differ: "
        f"{sorted(set(contributing.DECLARED) ^ set(accepted))}")
    for name, metrics in contributing.DECLARED.items():
        assert metrics, name
        unknown = [m for m in metrics if catalogue.find(m) is None]
        assert not unknown, f"metrics: {name} stands for {unknown}, not in pipeline/core/catalogue.py"


@pytest.mark.parametrize("text", ["fresh", "committed"])
def test_the_metric_list_names_every_catalogue_metric_and_every_accepted_name(text):
    fragment = (render("metrics.md.j2", contributing.metrics_context()) if text == "fresh"
                else (GENERATED / "metrics.md").read_text())
    missing = [m for m in ALL_METRICS if str(escaping.code(m)) not in fragment]
    assert not missing, f"docs/generated/metrics.md ({text}) lacks {missing}: run `python -m pipeline pages`"
    missing = [n for n in contributing.accepted_metric_names() if str(escaping.code(n)) not in fragment]
    assert not missing, f"docs/generated/metrics.md ({text}) lacks the accepted names {missing}"
    for m in ALL_METRICS:  # each with its title, so a reader knows what it is
        assert str(escaping.md(catalogue.find(m).title)) in fragment, m
    assert "only the *Metrics* row" in fragment


def test_the_metric_list_fails_when_the_catalogue_gains_a_metric(monkeypatch):
    monkeypatch.setitem(catalogue.TRAINING, "new_metric", catalogue.Metric("new_metric", "New", "s", "lower"))
    fragment = (GENERATED / "metrics.md").read_text()
    assert str(escaping.code("new_metric")) not in fragment  # the check above would name it
    assert str(escaping.code("new_metric")) in render("metrics.md.j2", contributing.metrics_context())


def test_contributing_includes_the_generated_fragments():
    text = CONTRIBUTING.read_text()
    for name in ("metrics.md", "batches.md"):
        assert f'--8<-- "docs/generated/{name}"' in text, name
        assert (GENERATED / name).is_file(), name


# -- batches -------------------------------------------------------------------------------------

@pytest.mark.parametrize("framework", list(FRAMEWORKS))
def test_each_backend_put_says_what_it_does_to_arrays(framework):
    path = ROOT / "pipeline" / "measure" / "backends" / f"{framework}_backend.py"
    description = contributing.put_description(path)
    assert description and len(description) > 40, f"{path}: put() needs a docstring saying what it does to arrays"
    fragment = (GENERATED / "batches.md").read_text()
    assert str(escaping.md(description)) in fragment, f"docs/generated/batches.md is stale for {framework}"
    assert FRAMEWORKS[framework].label in fragment


def test_put_description_reads_the_docstring_without_importing(tmp_path):
    source = tmp_path / "x_backend.py"
    source.write_text('import not_installed\n\ndef put(a, d):\n    """Casts   everything\n    to int8."""\n')
    assert contributing.put_description(source) == "Casts everything to int8."
    source.write_text("def put(a, d):\n    return a\n")
    assert contributing.put_description(source) is None
    assert "not described" in render("batches.md.j2", {"backends": [
        {"label": "X", "name": "x", "file": "x_backend.py", "put": None}]})


def test_the_int64_labels_of_pytorch_are_stated():
    fragment = (GENERATED / "batches.md").read_text()
    torch_row = next(line for line in fragment.splitlines() if line.startswith(f"| {FRAMEWORKS['torch'].label} |"))
    assert "int32 widened to int64" in torch_row
    # and the source does what the docstring says
    tree = ast.parse((ROOT / "pipeline" / "measure" / "backends" / "torch_backend.py").read_text())
    put = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "put")
    assert "torch.int32" in ast.unparse(put) and ".long()" in ast.unparse(put)


# -- facts ---------------------------------------------------------------------------------------

def _facts() -> dict[str, dict[str, set[str]]]:
    out: dict[str, dict[str, set[str]]] = {}
    with open(ROOT / "site_data" / "tables" / "facts.csv", newline="") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["workload"], {}).setdefault(row["machine_id"], set()).add(row["fact"])
    return out


@pytest.mark.parametrize("workload", sorted(discover()))
def test_every_workload_page_shows_its_facts_table(workload):
    facts = _facts()
    assert workload in facts, f"site_data/tables/facts.csv has no facts for {workload}"
    page = (ROOT / "docs" / "workloads" / f"{workload}.md").read_text()
    for machine, names in facts[workload].items():
        section = page.split(f"### On {escaping.code(machine)}", 1)[1].split("\n### On ", 1)[0]
        assert "The problem as the measured processes built it" in section, (workload, machine)
        assert "| Fact | Value |" in section, (workload, machine)
        missing = [n for n in names if f"| {escaping.code(n)} |" not in section]
        assert not missing, f"docs/workloads/{workload}.md, machine {machine}: facts {missing} not shown"


def test_a_fact_value_reaches_the_page_escaped():
    env = pages._env()
    template = env.from_string("{% for name, value in facts.items() %}| {{ name | code }} | {{ value }} |{% endfor %}")
    text = template.render(facts={"x": "<script>alert(1)</script> [a](javascript:x)"})
    assert "<script>" not in text and "&lt;script>" in text
    assert "[a](" not in text and "\\[a\\](" in text  # shown as the characters, not a link


# -- `run` exit code -----------------------------------------------------------------------------

def test_run_help_says_a_crashed_cell_exits_0(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", "--help"])
    assert exit_.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert " ".join(run_command.RUN_EXIT_CODES.split()) in out
    assert "a cell that crashed" in out and "still exits 0" in out
    assert "non-zero code means no result was written" in out


def test_contributing_says_what_runs_exit_code_means():
    text = " ".join(CONTRIBUTING.read_text().split())
    assert "`python -m pipeline run` (one cell, by hand) exits 0 whenever it wrote the result, even when the cell " \
           "crashed" in text
    assert "A non-zero code means no result was written" in text


def test_contributing_names_the_known_recompilations():
    text = " ".join(CONTRIBUTING.read_text().split())
    assert "Known recompilations that are not yours to fix" in text
    assert "Keras 3 on JAX: 1 after the first step" in text
