"""Site tier: the committed pages build strictly, and the workload page holds the
measured table, number for number, from site_data/tables/cells.csv."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from helpers import ROOT

from pipeline.core.registry import discover
from pipeline.publish.pages import fmt, missing_nav_entries

pytestmark = pytest.mark.site


def test_every_page_is_built(built_site):
    for page in ("index.html", "methodology.html", "environment.html", "contributing.html",
                 "workloads/index.html", "workloads/mlp_digits.html"):
        assert (built_site / page).is_file(), page


def test_workload_page_holds_the_measured_table(built_site):
    page = (built_site / "workloads" / "mlp_digits.html").read_text()
    cells = pd.read_csv(ROOT / "site_data" / "tables" / "cells.csv")
    mine = cells[cells["workload"] == "mlp_digits"]
    assert len(mine) >= 6
    for row in mine.itertuples():
        if row.status == "ok":
            median = getattr(row, "_" + str(list(mine.columns).index("train_throughput.median") + 1))
            assert f"<strong>{fmt(median)}</strong>" in page, (row.framework, row.mode)
        else:
            assert row.status in page


def test_code_tabs_show_the_files_that_ran(built_site):
    page = (built_site / "workloads" / "mlp_digits.html").read_text()
    for name in ("torch_impl.py", "tensorflow_impl.py", "jax_impl.py", "workload.py"):
        assert f"workloads/mlp_digits/{name}" in page
    # a distinctive line of each implementation made it into the page
    # highlighted, with names and punctuation left unwrapped (site_hooks: a lighter page)
    assert 'torch<span class="o">.</span>compile(' in page
    assert "jit_compile" in page and "donate_argnums" in page


def test_charts_are_local_and_have_a_static_fallback(built_site):
    page = (built_site / "workloads" / "mlp_digits.html").read_text()
    assert "cdn.jsdelivr" not in page and "unpkg.com" not in page and "fonts.googleapis" not in page
    assert '<script type="application/json" class="vega-spec">' in page
    # the chart script names the library it fetches (Vega alone: the specs are compiled); it ships with the site
    libraries = re.findall(r'"(vega[\w@.-]*\.min\.js)"', (built_site / "assets" / "js" / "charts.js").read_text())
    assert libraries == ["vega@6.4.0.min.js"]
    for script in libraries:
        assert (built_site / "assets" / "vendor" / script).is_file()
    # the static SVG only inside <noscript>: readers with JavaScript never download it
    assert '<noscript><img class="vega-fallback" src="../assets/charts/mlp_digits/' in page
    assert page.count('<img class="vega-fallback"') == page.count("<noscript><img")
    # no page loads the chart libraries itself
    assert "assets/vendor/" not in page and "assets/vendor/" not in (built_site / "methodology.html").read_text()


def test_every_workload_is_in_the_navigation():
    assert missing_nav_entries(discover(), ROOT / "mkdocs.yml") == []


def test_chart_specs_are_strict_json():
    """Browsers' JSON.parse refuses NaN: a spec with one would leave its chart blank."""
    import json

    def refuse(value):
        raise ValueError(f"non-JSON number {value}")

    specs = sorted((ROOT / "docs" / "assets" / "charts").glob("*/*/*.json"))
    assert specs
    for path in specs:
        json.loads(path.read_text(), parse_constant=refuse)


def test_claims_page_shows_a_verdict_for_every_claim(built_site):
    import yaml

    page = (built_site / "claims.html").read_text()
    ledger = yaml.safe_load((ROOT / "site_data" / "claims.yaml").read_text())
    verdicts = pd.read_csv(ROOT / "site_data" / "tables" / "verdicts.csv")
    assert set(verdicts["claim"]) == {c["id"] for c in ledger["claims"]}
    for claim in ledger["claims"]:
        assert f'id="{claim["id"]}"' in page, claim["id"]
    for evidence in verdicts["evidence"].dropna():
        if not evidence.startswith("http"):
            assert f'href="{evidence.replace(".md", ".html")}"' in page, evidence
    # verdict marks are words in a styled span: no emoji font needed to read them
    shown = {"holds": '<span class="verdict verdict-holds">holds',
             "does not hold": '<span class="verdict verdict-fails">does not hold',
             "not measurable": '<span class="verdict verdict-unmeasurable">not measurable',
             "awaiting public data": '<span class="verdict verdict-awaiting">awaiting public data',
             "not settled at this precision":
                 '<span class="verdict verdict-unsettled">not settled at this precision',
             "physically impossible": '<span class="verdict verdict-fails">physically impossible',
             "physically possible": '<span class="verdict verdict-unmeasurable">possible at '}
    assert not re.search("[\u2705\u274c\u2b1c]", page)
    for verdict, count in verdicts[verdicts["claim"].isin(
            [c["id"] for c in ledger["claims"] if "predicate" in c or "bound" in c])]["verdict"].value_counts().items():
        assert page.count(shown[verdict]) >= count, verdict


def test_ecosystem_page_gives_every_snapshot_figure_its_source_and_date(built_site):
    import json

    page = (built_site / "ecosystem.html").read_text()
    snapshot = json.loads((ROOT / "site_data" / "ecosystem" / "snapshot.json").read_text())
    for framework, figures in snapshot["frameworks"].items():
        for name, fig in figures.items():
            assert fig["source"].replace("&", "&amp;") in page, (framework, name)
            assert fig["retrieved"] in page
    assert "not retrieved" in page or all(f["value"] is not None for fs in snapshot["frameworks"].values()
                                   for f in fs.values())


def test_guide_embeds_its_data_and_links_every_value(built_site):
    page = (built_site / "guide.html").read_text()
    assert 'class="guide-data"' in page and "assets/js/chooser.js" in page
    for scenario in ("research-prototyping", "edge-mobile", "large-scale-tpu", "scientific-computing",
                     "regulated-production", "first-project"):
        assert f'id="{scenario}"' in page, scenario
    # every measured value in a criterion table is a link to its evidence
    assert page.count('href="workloads/inference_latency.html#on-') >= 3


def test_notebook_page_is_executed_and_its_companion_shows_the_code(built_site):
    executed = (built_site / "notebooks" / "redraw_a_chart.html").read_text()
    # the executed cell's output, not the code that writes it (shown escaped)
    assert '<div class="vega-chart" data-chart="notebook/' in executed
    assert "Traceback" not in executed
    companion = (built_site / "notebook.html").read_text()
    assert "read_csv" in companion and "notebooks/redraw_a_chart" in companion


def test_no_page_shows_exception_text(built_site):
    """A figure that could not be read is said plainly, never as the error it raised."""
    for path in sorted(built_site.rglob("*.html")):
        text = re.sub(r"<script.*?</script>|<[^>]+>", " ", path.read_text(), flags=re.S)
        for bad in ("Errno", "Traceback (most recent call last)", "Name or service not known", "network error"):
            assert bad not in text, (str(path.relative_to(built_site)), bad)


def test_every_generated_page_says_so():
    """A reader about to edit a page learns first that the pipeline overwrites it."""
    hand_written = {"methodology.md", "contributing.md"}
    for path in sorted((ROOT / "docs").rglob("*.md")):
        rel = path.relative_to(ROOT / "docs")
        if rel.parts[0] == "generated" or str(rel) in hand_written:
            continue
        text = re.sub(r"\A---\n.*?\n---\n", "", path.read_text(), flags=re.S)  # front matter comes first
        assert text.startswith("<!-- generated by `python -m pipeline pages`"), rel


def test_code_listings_lose_only_name_and_punctuation_spans():
    from pipeline.publish import site_hooks

    html = ('<p><span class="n">prose</span></p><div class="highlight"><pre><span></span>'
            '<span class="kn">import</span> <span class="nn">torch</span>\n'
            '<span class="n">x</span> <span class="o">=</span> <span class="n">torch</span><span class="p">.</span>'
            '<span class="n">zeros</span><span class="p">(</span><span class="mi">3</span><span class="p">)</span>'
            '</pre></div>')
    out = site_hooks.unwrap_plain_tokens(html)
    assert '<p><span class="n">prose</span></p>' in out  # outside <pre>: untouched
    assert ('<span class="kn">import</span> <span class="nn">torch</span>\n'
            'x <span class="o">=</span> torch.zeros(<span class="mi">3</span>)') in out
    # the text a reader copies is unchanged
    assert re.sub("<[^>]+>", "", out) == re.sub("<[^>]+>", "", html)


def test_the_notebook_page_links_a_compact_stylesheet_instead_of_jupyterlabs(built_site):
    from pipeline.publish import site_hooks

    page = (built_site / "notebooks" / "redraw_a_chart.html").read_text()
    assert '<link rel="stylesheet" href="../assets/css/notebook.css">' in page
    assert "--md-red-50" not in page  # the inlined JupyterLab stylesheet's first rule
    assert (built_site / "assets" / "css" / "notebook.css").is_file()
    # a page without the inlined stylesheet is left as it was
    assert site_hooks.drop_jupyterlab_css("<style>p{}</style>", "x.css") == "<style>p{}</style>"


def test_every_cell_links_to_its_stored_result_file(built_site):
    """Each cell of a workload page links its raw result, served byte for byte from site_data/."""
    from pipeline.core.results import result_path

    data = ROOT / "site_data"
    cells = pd.read_csv(data / "tables" / "cells.csv")
    for row in cells.to_dict("records"):
        page = (built_site / "workloads" / f"{row['workload']}.html").read_text()
        stored = result_path(data, row["machine_id"], row["workload"], row["framework"], row["mode"], row["profile"])
        link = f"data/{stored.relative_to(data).as_posix()}"
        assert f'href="../{link}"' in page, (row["workload"], stored.name)
        assert (built_site / link).read_bytes() == stored.read_bytes()


def test_only_hand_written_pages_get_an_edit_link():
    from types import SimpleNamespace

    from pipeline.publish import site_hooks

    generated = (ROOT / "docs" / "claims.md").read_text()
    hand_written = (ROOT / "docs" / "methodology.md").read_text()
    for text, kept in ((generated, False), (hand_written, True)):
        page = SimpleNamespace(edit_url="https://example.org/edit/main/docs/x.md")
        assert site_hooks.on_page_markdown(text, page, None, None) == text
        assert (page.edit_url is not None) == kept
