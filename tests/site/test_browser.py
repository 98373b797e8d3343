"""Browser tier: headless Chromium (Debian's package, driven by Playwright) opens
the built site: charts render from the local scripts, and no page logs an error or
requests anything it cannot load."""

from __future__ import annotations

import html
import json
import re
import time

import pytest
from helpers import CHROMIUM, ROOT, in_ci, serve
from mkdocs.utils.yaml import yaml_load

pytestmark = pytest.mark.browser
SITE_NAME = yaml_load((ROOT / "mkdocs.yml").read_text())["site_name"]
if CHROMIUM is None:
    if in_ci():
        raise RuntimeError("CI needs Debian's chromium for the browser tests (apt-get install chromium)")
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

PAGES = ["index.html", "workloads/mlp_digits.html", "environment.html", "methodology.html", "claims.html",
         "guide.html", "ecosystem.html", "concepts.html", "ergonomics.html", "faq.html", "notebook.html",
         "notebooks/redraw_a_chart.html", "machines.html"]


@pytest.fixture(scope="session")
def server(built_site):
    yield from serve(built_site)


def open_page(browser, url, javascript=True, requests=None):
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    problems = []
    if requests is not None:
        page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.goto(url, wait_until="networkidle")
    return context, page, problems


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_without_errors(browser, server, path):
    context, page, problems = open_page(browser, f"{server}/{path}")
    try:
        assert page.title().endswith(SITE_NAME), page.title()
        assert page.locator("h1").count() >= 1
        assert problems == []
    finally:
        context.close()


def test_charts_render_interactively(browser, server):
    requests = []
    context, page, problems = open_page(browser, f"{server}/workloads/mlp_digits.html", requests=requests)
    try:
        page.wait_for_selector("div.vega-chart[data-rendered='true']", timeout=120_000)  # a hang guard, as in _search
        boxes = page.locator("div.vega-chart")
        assert boxes.count() >= 3
        # a later machine's charts carry their spec's address and are fetched only when read
        later = page.locator("div.vega-chart[data-src]")
        assert later.count() == boxes.count() - page.locator("div.vega-chart script.vega-spec").count()
        assert not [url for url in requests if "/assets/charts/" in url]
        for i in range(boxes.count()):
            box = boxes.nth(i)
            box.scroll_into_view_if_needed()
            page.wait_for_function("b => b.dataset.rendered === 'true'", arg=box.element_handle(), timeout=120_000)
            # vega drew real marks: at least one per measured cell
            assert box.locator(".vega-target svg .role-mark path, .vega-target svg .role-mark line").count() >= 6
            assert box.locator("img.vega-fallback").count() == 0
        assert problems == []
        # the libraries came from the site itself; the static SVGs were never fetched, the later specs were
        assert [url.rsplit("/", 1)[-1] for url in requests if "/assets/vendor/" in url] == ["vega@6.4.0.min.js"]
        assert not [url for url in requests if "/assets/charts/" in url and url.endswith(".svg")]
        assert len([url for url in requests if "/assets/charts/" in url and url.endswith(".json")]) == later.count()
    finally:
        context.close()


def test_pages_without_charts_do_not_fetch_the_chart_libraries(browser, server):
    requests = []
    context, page, problems = open_page(browser, f"{server}/methodology.html", requests=requests)
    try:
        assert page.locator("div.vega-chart").count() == 0
        assert not [url for url in requests if "/assets/vendor/" in url]
        assert problems == []
    finally:
        context.close()


def test_static_svg_serves_readers_without_javascript(browser, server):
    context, page, problems = open_page(browser, f"{server}/workloads/mlp_digits.html", javascript=False)
    try:
        images = page.locator("img.vega-fallback")
        assert images.count() >= 3
        for i in range(images.count()):
            assert images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0")
        assert problems == []
    finally:
        context.close()


def test_a_later_machines_charts_show_their_svg_from_a_file(browser, built_site):
    """Opened from disk, where a page may not fetch its specs, the charts of the page's later
    machines show the SVG drawn at build time; the first machine's are drawn from the page."""
    context, page, problems = open_page(browser, (built_site / "workloads" / "mlp_digits.html").as_uri())
    try:
        later = page.locator("div.vega-chart[data-src]")
        assert later.count() >= 1
        page.wait_for_selector("div.vega-chart[data-rendered='true']", timeout=120_000)
        for i in range(later.count()):
            image = later.nth(i).locator("img.vega-fallback")
            image.scroll_into_view_if_needed()
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(),
                                   timeout=60_000)
        assert problems == []
    finally:
        context.close()


def test_chooser_reranks_offline_when_criteria_are_dropped(browser, server):
    """The chooser works from the page's own data: zero every weight but one and the
    recommendation is that criterion's best framework."""
    context, page, problems = open_page(browser, f"{server}/guide.html")
    page.wait_for_selector(".guide-chooser[data-ready='true']")
    page.select_option("select.guide-scenario", label="Edge and mobile deployment")
    first = page.inner_text(".guide-result strong")
    assert first.startswith("Recommended: ")
    inputs = page.query_selector_all(".guide-criteria input")
    assert len(inputs) >= 3
    labels = page.query_selector_all(".guide-criteria label")
    # keep only the exported-model size, where the smallest artefact wins
    for i, el in enumerate(inputs):
        el.fill("1" if "Exported model size" in labels[i].inner_text() else "0")
    after = page.inner_text(".guide-result strong")
    import json

    data = json.loads(page.inner_text("script.guide-data") or page.eval_on_selector(
        "script.guide-data", "e => e.textContent"))
    edge = next(s for s in data["scenarios"] if s["id"] == "edge-mobile")["machines"][0]
    size = next(c for c in edge["criteria"] if c["label"].startswith("Exported model size"))
    best = max(size["scores"], key=size["scores"].get)
    label = next(f["label"] for f in data["frameworks"] if f["name"] == best)
    assert after == f"Recommended: {label}"
    assert not problems, problems
    context.close()


@pytest.mark.parametrize("weight", ["7", "-3", "1.5"])
def test_chooser_refuses_weights_outside_0_to_5(browser, server, weight):
    context, page, problems = open_page(browser, f"{server}/guide.html")
    try:
        page.wait_for_selector(".guide-chooser[data-ready='true']")
        field = page.locator(".guide-criteria input").first
        field.fill(weight)
        refused = page.locator(".guide-result .guide-refused")
        assert refused.is_visible() and weight in refused.inner_text()
        assert field.get_attribute("aria-invalid") == "true"
        assert page.locator(".guide-result ol").count() == 0  # nothing ranked from a refused weight
        field.fill("2")
        assert page.locator(".guide-result .guide-refused").count() == 0
        assert page.inner_text(".guide-result strong").startswith(("Recommended: ", "Not answered"))
        assert problems == []
    finally:
        context.close()


def test_home_page_first_screen_answers_and_tallies(browser, server):
    """At 1280 x 900 the reader sees an answer per scenario and the claims tally without scrolling."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{server}/index.html", wait_until="networkidle")
        table = page.locator("article table").first
        assert "Scenario" in table.inner_text()
        rows = table.locator("tbody tr")
        assert rows.count() >= 6
        tally = page.get_by_text("claims turned into tests")
        for element in (rows.last, tally):
            box = element.bounding_box()
            assert box is not None and box["y"] + box["height"] <= 900, box
    finally:
        context.close()


WORKLOAD_PAGES = sorted(f"workloads/{p.stem}.html" for p in (ROOT / "docs" / "workloads").glob("*.md")
                        if p.stem != "index")


@pytest.mark.parametrize("path", WORKLOAD_PAGES)
def test_main_results_table_fits_a_laptop_and_keeps_its_cell_column_on_a_phone(browser, server, path):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{server}/{path}", wait_until="networkidle")
        # the first table whose header gives a median: the page's main results
        main = page.locator(".md-typeset__scrollwrap", has=page.locator("th", has_text="median")).first
        assert main.evaluate("w => w.scrollWidth <= w.clientWidth + 1"), path
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(100)  # the resize handler runs
        # scrolled sideways, each wide table still shows its first column at the left edge
        wide = page.locator(".md-typeset__scrollwrap").evaluate_all(
            "ws => ws.filter(w => w.scrollWidth > w.clientWidth + 1).map(w => {"
            " w.scrollLeft = w.scrollWidth; const td = w.querySelector('tbody td');"
            " const cue = !!(w.previousElementSibling && w.previousElementSibling.classList.contains('scroll-cue'));"
            " return [cue, Math.round(td.getBoundingClientRect().left - w.getBoundingClientRect().left)]; })")
        assert wide, path  # operations and training pages alike have a table wider than a phone
        for cue, offset in wide:
            assert cue and 0 <= offset <= 20, (path, cue, offset)
    finally:
        context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_machines_page_draws_each_pair_and_fits_the_width(browser, server, width):
    """Each pair of machines: its chart drawn by Vega with a point per judged figure, and no
    part of the page but its scrollable tables wider than the screen."""
    pairs = json.loads((ROOT / "site_data" / "tables" / "machine_differences.json").read_text())
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        page.goto(f"{server}/machines.html", wait_until="networkidle")
        assert page.locator("h2").count() == len(pairs)
        if pairs:
            page.wait_for_selector("div.vega-chart[data-rendered='true']", timeout=120_000)
            chart = page.locator("div.vega-chart").first
            assert chart.locator(".vega-target svg .role-mark path").count() >= pairs[0]["judged"]
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert problems == []
    finally:
        context.close()


def test_claims_overview_filters_and_sorts_offline(browser, server):
    context, page, problems = open_page(browser, f"{server}/claims.html")
    try:
        page.wait_for_selector(".claims-overview[data-ready='true']")
        rows = page.locator(".claims-overview tbody tr")
        total = rows.count()
        assert total >= 10
        verdict = page.locator(".claims-filters select").first
        verdict.select_option("does not hold")
        visible = page.locator(".claims-overview tbody tr:not([hidden])")
        assert 0 < visible.count() < total
        for i in range(visible.count()):
            assert visible.nth(i).locator("td").nth(4).inner_text().startswith("does not hold")
        verdict.select_option("")
        assert page.locator(".claims-overview tbody tr:not([hidden])").count() == total
        # every row links to its claim's permalink on the same page
        first = rows.first.locator("td a").first.get_attribute("href")
        assert first.startswith("#") and page.locator(f"[id='{first[1:]}']").count() == 1
        assert problems == []
    finally:
        context.close()


def test_axe_core_finds_no_serious_or_critical_violation(browser, server, built_site):
    """axe-core, the maintained accessibility engine, over every page of the site."""
    axe_sync = pytest.importorskip("axe_playwright_python.sync_playwright")
    from pipeline.publish.browse import pages

    axe = axe_sync.Axe()
    context = browser.new_context()
    page = context.new_page()
    found = []
    try:
        for path in pages(built_site):
            page.goto(f"{server}/{path}", wait_until="networkidle")
            for v in axe.run(page).response["violations"]:
                if v["impact"] in ("serious", "critical"):
                    found.append(f"{path}: {v['id']} ({v['impact']}) at {v['nodes'][0]['target']}")
    finally:
        context.close()
    assert found == []


def _search(page, query):
    """Type ``query`` into the theme's search; the result pages' paths, best first. A query typed
    while the search worker still builds its index can go unanswered, so it is typed again until
    results show (two minutes at most: a guard against a search that never answers, not a speed
    limit; the contract tests beside this one keep every core busy)."""
    field = "input[data-md-component=search-query]"
    answered = ("q => document.querySelector('[data-md-component=search-result] .md-search-result__meta')"
                " && document.querySelector('.md-search-result__item') !== null"
                f" && document.querySelector('{field}').value === q")
    page.fill(field, query)
    deadline = time.monotonic() + 120
    while True:
        try:
            page.wait_for_function(answered, arg=query, timeout=10_000)
            break
        except sync_api.TimeoutError:
            if time.monotonic() > deadline:
                raise
            # typed again, as a reader would: a space and its deletion leave the query as it was
            page.press(field, "End")
            page.keyboard.type(" ")
            page.keyboard.press("Backspace")
    hrefs = page.locator(".md-search-result__item > a").evaluate_all("els => els.map(e => e.href)")
    return [h.split("/", 3)[-1].split("#")[0] for h in hrefs]


def test_search_index_loads_only_when_the_reader_opens_search(browser, server):
    """search-on-demand.js: no page pays for the search worker and index until search gets
    focus; then search works as the theme made it."""
    requests = []
    context, page, problems = open_page(browser, f"{server}/faq.html", requests=requests)
    try:
        assert not [url for url in requests if "search_index.json" in url or "/workers/search" in url]
        page.keyboard.press("/")  # the theme's shortcut: focuses the search field
        assert _search(page, "methodology")
        assert [url for url in requests if url.endswith("/search/search_index.json")]
        assert problems == []
    finally:
        context.close()


@pytest.mark.parametrize("slug", sorted(p.parent.name for p in (ROOT / "workloads").glob("*/workload.yaml")))
def test_a_workload_page_comes_first_in_search_for_its_name(browser, server, built_site, slug):
    """By its folder name and by its title (the page's heading)."""
    heading = re.search(r"<h1[^>]*>(.*?)<", (built_site / "workloads" / f"{slug}.html").read_text()).group(1)
    context, page, problems = open_page(browser, f"{server}/index.html")
    try:
        page.keyboard.press("/")
        for query in (slug, html.unescape(heading)):
            assert _search(page, query)[0] == f"workloads/{slug}.html", query
        assert problems == []
    finally:
        context.close()
