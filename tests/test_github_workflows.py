"""Unit tier: the GitHub Actions workflows a fork gets (``.github/workflows``). actionlint checks both; every
command they run is one the README gives, a session of noxfile.py or a command of ``python -m pipeline``, so
CI runs nothing a contributor cannot run by hand; the pages workflow uploads the folder the site build writes,
and the pull-request workflow runs on the paths a pull request of results or workloads touches."""

from __future__ import annotations

import ast
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import ROOT

from pipeline.commands import COMMANDS

WORKFLOWS = ROOT / ".github" / "workflows"
PULL_REQUEST = WORKFLOWS / "pull-request.yml"
PAGES = WORKFLOWS / "pages.yml"
#: what separates the commands of one shell line
OPERATORS = {"&&", "||", ";", "|"}
#: the interpreters the README's commands name
PYTHONS = {"python", "python3", "python3.11"}


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as a boolean
    data["on"] = data.pop(True, data.get("on"))
    return data


def steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def commands(script: str) -> list[tuple[str, ...]]:
    """The simple commands of a shell script, each as its words: continued lines joined, comments
    dropped, split at ``&&``, ``||``, ``;`` and ``|``."""
    out = []
    for line in script.replace("\\\n", " ").splitlines():
        words: list[str] = []
        for word in [*shlex.split(line, comments=True), "&&"]:
            if word in OPERATORS:
                if words:
                    out.append(tuple(words))
                words = []
            else:
                words.append(word)
    return out


def readme_commands() -> set[tuple[str, ...]]:
    """Every command of the README's fenced bash blocks."""
    text = (ROOT / "README.md").read_text()
    return {c for block in re.findall(r"^```bash\n(.*?)^```", text, re.S | re.M) for c in commands(block)}


def nox_sessions() -> set[str]:
    """The sessions noxfile.py defines (functions decorated with ``@nox.session``), read with ``ast``."""
    out = set()
    for node in ast.parse((ROOT / "noxfile.py").read_text()).body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            call = decorator.func if isinstance(decorator, ast.Call) else decorator
            if isinstance(call, ast.Attribute) and call.attr == "session":
                names = [k.value.value for k in getattr(decorator, "keywords", ())
                         if k.arg == "name" and isinstance(k.value, ast.Constant)]
                out.add(names[0] if names else node.name)
    return out


def unknown_commands(script: str, readme: set, sessions: set) -> list[str]:
    """The commands of ``script`` that are neither the README's nor ``python -m nox -s SESSION`` nor
    ``python -m pipeline COMMAND ...``, with Python the README's or a nox session's environment."""
    out = []
    for words in commands(script):
        if words in readme:
            continue
        python, *rest = words
        venv = re.fullmatch(r"\.nox/([\w-]+)/bin/python", python)
        if python in PYTHONS or (venv and venv[1] in sessions):
            if rest[:3] == ["-m", "nox", "-s"] and len(rest) == 4 and rest[3] in sessions:
                continue
            if rest[:2] == ["-m", "pipeline"] and len(rest) >= 3 and rest[2] in COMMANDS:
                continue
        out.append(shlex.join(words))
    return out


def actionlint() -> str | None:
    """The actionlint of the test group (beside this interpreter), else one on PATH."""
    beside = Path(sys.executable).parent / "actionlint"
    return str(beside) if beside.is_file() else shutil.which("actionlint")


def test_actionlint_passes_both_workflows():
    binary = actionlint()
    if binary is None:
        pytest.skip("actionlint is not installed (the test dependency group installs it)")
    proc = subprocess.run([binary, "-no-color", "-oneline", str(PULL_REQUEST), str(PAGES)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", [PULL_REQUEST, PAGES], ids=lambda p: p.name)
def test_every_command_is_one_the_readme_gives(path):
    readme, sessions = readme_commands(), nox_sessions()
    scripts = [step["run"] for step in steps(load(path)) if "run" in step]
    assert scripts, f"{path.name} runs no command"
    unknown = [c for script in scripts for c in unknown_commands(script, readme, sessions)]
    assert not unknown, f"{path.name} runs commands the README does not give: {unknown}"


def test_a_command_the_readme_does_not_give_is_refused():
    readme, sessions = readme_commands(), nox_sessions()
    assert {"quick", "site", "tests"} <= sessions
    assert ("python3.11", "-m", "pip", "install", "nox") in readme
    given = ("python3.11 -m pip install nox && python3.11 -m nox -s quick\n"
             ".nox/tests/bin/python -m pipeline verify\n"
             "python -m pipeline check  # input validation\n")
    assert unknown_commands(given, readme, sessions) == []
    assert unknown_commands("make deploy", readme, sessions) == ["make deploy"]
    assert unknown_commands("python3.11 -m nox -s quick && curl -d @site_data x", readme, sessions) == [
        "curl -d @site_data x"]
    assert unknown_commands("python -m pipeline deploy", readme, sessions) == ["python -m pipeline deploy"]
    assert unknown_commands("python3.11 -m nox -s nosuch", readme, sessions) == ["python3.11 -m nox -s nosuch"]
    assert unknown_commands("/tmp/x/bin/python -m pipeline check", readme, sessions) == [
        "/tmp/x/bin/python -m pipeline check"]


def site_folders() -> set[str]:
    """Where the site build writes: mkdocs.yml's ``site_dir`` and the output of the DAG's ``site`` rule,
    which ``nox -s site`` runs."""
    loader = type("Loader", (yaml.SafeLoader,), {})
    # mkdocs.yml's tags (!ENV, python/name:) stand for values only MkDocs resolves
    loader.add_multi_constructor("", lambda *_: None)
    mkdocs = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=loader)
    rule = re.search(r"^rule site:.*?directory\(\"([^\"]+)\"\)", (ROOT / "rules" / "publish.smk").read_text(),
                     re.S | re.M)
    assert rule, "rules/publish.smk: no directory output of rule site"
    return {mkdocs["site_dir"], rule[1]}


def test_pages_builds_without_measuring_and_uploads_the_site_folder():
    pages = load(PAGES)
    assert pages["on"]["push"]["branches"] == ["main"]
    builds = [step for step in steps(pages)
              if ("python3.11", "-m", "nox", "-s", "site") in commands(step.get("run", ""))]
    assert len(builds) == 1, "pages.yml must build with `python3.11 -m nox -s site`, which measures nothing"
    # the header's repository link appears only when the build sets the variable mkdocs.yml reads
    assert "!ENV SITE_REPO_URL" in (ROOT / "mkdocs.yml").read_text()
    assert builds[0]["env"]["SITE_REPO_URL"] == "${{ github.server_url }}/${{ github.repository }}"
    uploads = [step for step in steps(pages) if step.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert len(uploads) == 1
    assert site_folders() == {uploads[0]["with"]["path"]}
    deploy = pages["jobs"]["deploy"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert any(step.get("uses", "").startswith("actions/deploy-pages@") for step in deploy["steps"])
    assert pages["concurrency"]["group"] == "pages"


def test_pull_requests_of_results_or_workloads_run_verify_check_and_the_quick_tests():
    workflow = load(PULL_REQUEST)
    assert {"site_data/**", "workloads/**"} <= set(workflow["on"]["pull_request"]["paths"])
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["concurrency"]["cancel-in-progress"] is True
    run = [c for step in steps(workflow) for c in commands(step.get("run", ""))]
    assert ("python3.11", "-m", "nox", "-s", "quick") in run
    for command in ("check", "verify"):
        assert (".nox/tests/bin/python", "-m", "pipeline", command) in run, command
    # verify reads each result's source files at the commit it records, so it needs the whole history
    checkout = next(step for step in steps(workflow) if step.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
