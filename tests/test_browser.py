"""Browser tier: headless Chromium (Debian's package, driven by Playwright) opens
the built site: charts render from the local scripts, and no page logs an error or
requests anything it cannot load."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading

import pytest
import yaml
from conftest import ROOT, in_ci

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SITE_NAME = yaml.safe_load((ROOT / "mkdocs.yml").read_text().split("\nnav:")[0])["site_name"]
if CHROMIUM is None:
    if in_ci():
        raise RuntimeError("CI needs Debian's chromium for the browser tests (apt-get install chromium)")
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
PAGES = ["index.html", "workloads/mlp_digits.html", "environment.html", "methodology.html", "claims.html",
         "guide.html", "ecosystem.html", "concepts.html", "ergonomics.html", "faq.html", "notebook.html",
         "notebooks/redraw_a_chart.html"]


def serve(folder):
    """Serve ``folder`` on a free loopback port for as long as the generator lives."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def server(built_site):
    yield from serve(built_site)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def open_page(browser, url, javascript=True):
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    problems = []
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
    context, page, problems = open_page(browser, f"{server}/workloads/mlp_digits.html")
    try:
        page.wait_for_selector("div.vega-chart[data-rendered='true']", timeout=15_000)
        boxes = page.locator("div.vega-chart")
        assert boxes.count() >= 3
        for i in range(boxes.count()):
            box = boxes.nth(i)
            assert box.get_attribute("data-rendered") == "true"
            # vega drew real marks: at least one per measured cell
            assert box.locator(".vega-target svg .role-mark path, .vega-target svg .role-mark line").count() >= 6
            assert box.locator("img.vega-fallback").count() == 0
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
