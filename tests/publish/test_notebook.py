"""The "Redraw a chart yourself" notebook runs, top to bottom, in a fresh kernel, and its chart
and its table hold the numbers of site_data/tables/cells.csv; the page generated from it shows
its code; mkdocs.yml executes it at every build and fails on an error."""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import time
from pathlib import Path

import jinja2
import nbclient
import nbformat
import pandas as pd
import pytest
import vl_convert as vlc
from helpers import ROOT
from jupyter_client.kernelspec import KernelSpecManager

from pipeline.publish import notebook
from pipeline.publish.charts import VL_VERSION

#: one worker executes the notebook (a module fixture) and runs every test that reads it
pytestmark = pytest.mark.xdist_group("notebook")

NOTEBOOK = ROOT / "docs" / "notebooks" / "redraw_a_chart.ipynb"
CELLS_CSV = ROOT / "site_data" / "tables" / "cells.csv"
METRIC = "train_throughput"
VEGALITE = "application/vnd.vegalite.v6+json"


def run(cells: pd.DataFrame, tmp: Path) -> tuple[nbformat.NotebookNode, float]:
    """Execute a copy of the notebook in a throwaway checkout: ``tmp/site_data/tables/cells.csv``
    holds ``cells`` and the kernel starts in ``tmp/docs/notebooks``, as under mkdocs-jupyter, so
    the notebook has to walk up to find the tables."""
    (tmp / "site_data" / "tables").mkdir(parents=True)
    cells.to_csv(tmp / "site_data" / "tables" / "cells.csv", index=False)
    folder = tmp / "docs" / "notebooks"
    folder.mkdir(parents=True)
    shutil.copy(NOTEBOOK, folder / NOTEBOOK.name)
    nb = nbformat.read(folder / NOTEBOOK.name, as_version=4)
    started = time.perf_counter()
    # allow_errors=False: the first failing cell raises CellExecutionError, as it fails the site build
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=300, allow_errors=False,
                            resources={"metadata": {"path": str(folder)}}).execute()
    return nb, time.perf_counter() - started


def expected_workload(cells: pd.DataFrame) -> str:
    trained = cells[cells[f"{METRIC}.median"].notna()]
    return "cnn_cifar" if "cnn_cifar" in set(trained["workload"]) else sorted(trained["workload"].unique())[0]


def ok_cells(cells: pd.DataFrame, workload: str) -> pd.DataFrame:
    mine = cells[(cells["workload"] == workload) & (cells["status"] == "ok") & cells[f"{METRIC}.median"].notna()]
    assert len(mine), f"no ok {workload} cells to compare against"
    return mine


def outputs(nb, cell_id: str) -> list:
    found = [c for c in nb.cells if c.get("id") == cell_id]
    assert len(found) == 1, f"the notebook has no single cell with id {cell_id!r}"
    return found[0].outputs


def chart_output(nb) -> dict:
    bundles = [o.data for o in outputs(nb, "chart") if o.output_type in ("execute_result", "display_data")]
    assert len(bundles) == 1, "the chart cell should show exactly one chart"
    return bundles[0]


def records(spec: dict) -> list[dict]:
    """Every inline data row of a Vega-Lite spec, wherever Altair put it."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "datasets":
                    for rows in value.values():
                        found.extend(rows)
                elif key == "values" and isinstance(value, list) and value and isinstance(value[0], dict):
                    found.extend(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(spec)
    return found


def drawn(spec: dict) -> dict[tuple[str, str], dict]:
    rows = {}
    for r in records(spec):
        key = (r["machine_id"], r["cell"])
        assert rows.get(key, r) == r, f"{key} drawn twice with different numbers"
        rows[key] = r
    return rows


def table_rows(markup: str) -> list[list[str]]:
    body = re.search(r"<tbody>(.*?)</tbody>", markup, re.S)
    assert body, "the table output is not an HTML table"
    return [[html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
             for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)]


def check_chart(nb, expected: pd.DataFrame) -> dict:
    bundle = chart_output(nb)
    assert VEGALITE in bundle, f"no Vega-Lite spec among {sorted(bundle)}"
    spec = bundle[VEGALITE]
    rows = drawn(spec)
    assert set(rows) == set(zip(expected["machine_id"], expected["cell"], strict=True))
    for row in expected.to_dict("records"):
        mine = rows[(row["machine_id"], row["cell"])]
        for stat in ("median", "ci_low", "ci_high"):
            assert mine[stat] == pytest.approx(row[f"{METRIC}.{stat}"], rel=1e-12), \
                (row["machine_id"], row["cell"], stat)
    return spec


def check_table(nb, expected: pd.DataFrame) -> None:
    shown = [o.data["text/html"] for o in outputs(nb, "table") if "text/html" in o.get("data", {})]
    assert len(shown) == 1, "the table cell should show one table"
    rows = table_rows(shown[0])
    assert len(rows) == len(expected), "one table row per ok cell"
    by_key = {(r[1], r[2]): r for r in rows}  # r[0] is the index
    for row in expected.to_dict("records"):
        key = (row["machine_id"], row["cell"])
        assert key in by_key, f"{key} is missing from the table"
        median, low, high = (float(v) for v in by_key[key][3:6])
        assert median == pytest.approx(round(row[f"{METRIC}.median"], 1), abs=0.051), key
        assert low == pytest.approx(round(row[f"{METRIC}.ci_low"], 1), abs=0.051), key
        assert high == pytest.approx(round(row[f"{METRIC}.ci_high"], 1), abs=0.051), key


@pytest.fixture(scope="session")
def committed_cells() -> pd.DataFrame:
    return pd.read_csv(CELLS_CSV)


@pytest.fixture(scope="session")  # run once per worker, however the tests interleave
def executed(tmp_path_factory, committed_cells):
    nb, seconds = run(committed_cells, tmp_path_factory.mktemp("checkout"))
    print(f"notebook executed in {seconds:.1f} s")
    return nb


def test_the_python3_kernel_resolves():
    spec = KernelSpecManager().get_kernel_spec("python3")
    assert spec.language == "python"


def test_the_committed_notebook_has_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"cell {cell.id} has outputs"
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_it_runs_without_errors(executed):
    for cell in executed.cells:
        if cell.cell_type == "code":
            for out in cell.outputs:
                assert out.output_type != "error", f"cell {cell.id}: {out.get('ename')}: {out.get('evalue')}"
                if out.output_type == "stream":
                    assert "Traceback" not in out.text, f"cell {cell.id} printed a traceback"
    assert [o.text.strip() for o in outputs(executed, "pick")] == ["cnn_cifar"]


def test_the_chart_draws_the_medians_of_cells_csv(executed, committed_cells):
    workload = expected_workload(committed_cells)
    spec = check_chart(executed, ok_cells(committed_cells, workload))
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/v6")


def test_the_chart_works_offline(executed):
    """The same markup as the site's charts: the spec inline for docs/assets/js/charts.js, an SVG
    drawn at execution for readers without JavaScript, and nothing fetched from a network."""
    bundle = chart_output(executed)
    markup = bundle["text/html"]
    assert '<div class="vega-chart"' in markup
    inline = re.search(r'<script type="application/json" class="vega-spec">(.*?)</script>', markup, re.S)
    assert inline, "no inline spec for the site's script"
    # Vega compiled from the bundle's Vega-Lite: the site ships Vega alone
    drawn_spec = json.loads(inline.group(1))
    assert drawn_spec["$schema"].startswith("https://vega.github.io/schema/vega/v6")
    assert drawn_spec == vlc.vegalite_to_vega(bundle[VEGALITE], vl_version=VL_VERSION)
    image = re.search(r'<img class="vega-fallback"[^>]*src="data:image/svg\+xml;base64,([^"]+)"', markup)
    assert image, "no static SVG fallback"
    svg = base64.b64decode(image.group(1)).decode()
    assert svg.lstrip().startswith("<svg") and "<text" in svg
    assert "<script src" not in markup and "cdn." not in markup and "jsdelivr" not in markup


def test_the_table_lists_every_ok_cell(executed, committed_cells):
    check_table(executed, ok_cells(committed_cells, expected_workload(committed_cells)))


def test_other_tables_other_workload_one_chart_per_machine(tmp_path, committed_cells):
    """Without cnn_cifar the notebook takes the first training workload; a second machine gets a
    chart of its own; a failed cell is neither drawn nor listed."""
    first = committed_cells["machine_id"].iloc[0]
    cells = committed_cells[(committed_cells["workload"] != "cnn_cifar") & (committed_cells["machine_id"] == first)]
    workload = expected_workload(cells)
    assert workload != "cnn_cifar"
    other = cells[cells["workload"] == workload].copy()
    other["machine_id"] = "zz-second-machine"
    for stat in ("median", "ci_low", "ci_high"):
        other[f"{METRIC}.{stat}"] *= 7.5
    failed = other.index[0]
    other.loc[failed, ["status", f"{METRIC}.median", f"{METRIC}.ci_low", f"{METRIC}.ci_high"]] = \
        ["failed", float("nan"), float("nan"), float("nan")]
    cells = pd.concat([cells, other], ignore_index=True)

    nb, _ = run(cells, tmp_path)
    assert [o.text.strip() for o in outputs(nb, "pick")] == [workload]
    expected = ok_cells(cells, workload)
    assert expected["machine_id"].nunique() == 2
    spec = check_chart(nb, expected)
    assert [part["title"] for part in spec["vconcat"]] == sorted(expected["machine_id"].unique())
    check_table(nb, expected)


# -- the generated page --------------------------------------------------------------------------

def test_context_holds_the_code_cells():
    ctx = notebook.context(NOTEBOOK, ROOT / "docs")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c.source.strip("\n") for c in nb.cells if c.cell_type == "code"]
    assert ctx["code_cells"] == notebook.code_cells(NOTEBOOK) == code
    assert [c for step in ctx["steps"] for c in step["code"]] == code
    assert len(notebook.markdown_cells(NOTEBOOK)) == sum(c.cell_type == "markdown" for c in nb.cells)
    assert ctx["notebook_link"] == "notebooks/redraw_a_chart.ipynb"
    assert ctx["notebook_repo_path"] == "docs/notebooks/redraw_a_chart.ipynb"
    assert notebook.context(NOTEBOOK, ROOT / "docs", page="guides/redraw.md")["notebook_link"] == \
        "../notebooks/redraw_a_chart.ipynb"


@pytest.mark.parametrize("env", ["own", "pages"])
def test_the_page_renders_every_step(env):
    if env == "pages":
        from pipeline.publish.pages import _env  # the generator's environment, StrictUndefined
        text = _env().get_template(notebook.TEMPLATE).render(**notebook.context(NOTEBOOK, ROOT / "docs"))
    else:
        text = notebook.render(NOTEBOOK, ROOT / "docs")
    assert text.split("\n", 1)[1].startswith("# Redraw a chart yourself\n")  # after the banner
    assert text.count("\n# ") == 1, "one level-1 heading: the notebook's own title is not repeated"
    for code in notebook.code_cells(NOTEBOOK):
        assert f"```python\n{code}\n```" in text
    for heading in re.findall(r"^## (.+)$", "\n".join(notebook.markdown_cells(NOTEBOOK)), re.M):
        assert f"\n### {heading}\n" in text
    assert "](notebooks/redraw_a_chart.ipynb)" in text
    assert "jupyter execute docs/notebooks/redraw_a_chart.ipynb" in text


def test_the_template_refuses_a_missing_value():
    ctx = notebook.context(NOTEBOOK, ROOT / "docs")
    del ctx["notebook_link"]
    with pytest.raises(jinja2.UndefinedError):
        notebook._env().get_template(notebook.TEMPLATE).render(**ctx)


def test_mkdocs_executes_the_notebook_and_fails_on_errors():
    from mkdocs.utils.yaml import yaml_load

    config = yaml_load((ROOT / "mkdocs.yml").read_text())
    plugins = config["plugins"]
    assert "search" in plugins
    options = next(p["mkdocs-jupyter"] for p in plugins if isinstance(p, dict) and "mkdocs-jupyter" in p)
    assert options["execute"] is True and options["allow_errors"] is False
    assert options["include"] == ["notebooks/*.ipynb"] and options["include_source"] is True
    assert options.get("cache") is False, "a cached page would keep the numbers of older tables"
