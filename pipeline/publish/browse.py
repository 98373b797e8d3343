"""The built site in headless Chromium, as a reader gets it.

``python -m pipeline page-weight`` is a benchmark, not a test: it serves ``site/``
on a loopback port, opens each page with an empty cache, waits until the network
is idle, and prints the requests and the uncompressed bytes of every response
against the targets (exit code 1 when a page is over its target; the tests never
run it). ``python -m pipeline screenshots`` writes every page at a laptop's and a
phone's width into one folder, for a reviewer without a browser at hand.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

#: uncompressed cold load, bytes: pages with a chart may fetch the chart libraries
TARGETS = {"no chart": 400 * 1024, "chart": 1024 * 1024}
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@functools.lru_cache(maxsize=1)
def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise FileNotFoundError("chromium is not installed (apt-get install chromium)")
    return found


def pages(site: Path) -> list[str]:
    """Every HTML page of the site, relative to it, in a stable order."""
    return sorted(str(p.relative_to(site)) for p in site.rglob("*.html") if p.name != "404.html")


@contextlib.contextmanager
def serve(site: Path) -> Iterator[str]:
    """Serve ``site`` on a free loopback port; yields its base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


@contextlib.contextmanager
def _site_in_chromium(site: Path):
    """(browser, base URL): the built site served, and headless Chromium to read it."""
    from playwright.sync_api import sync_playwright

    with serve(site) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=BROWSER_ARGS)
        try:
            yield browser, base
        finally:
            browser.close()


#: (name, viewport) of the screenshots: a laptop and a phone
WIDTHS = [("1280", {"width": 1280, "height": 900}), ("390", {"width": 390, "height": 844})]


def screenshots(site: Path, out: Path) -> list[Path]:
    """Full-page PNGs of every page at both widths: ``out/<page>-<width>.png``."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with _site_in_chromium(site) as (browser, base):
        for name, viewport in WIDTHS:
            context = browser.new_context(viewport=viewport)
            page = context.new_page()
            for path in pages(site):
                page.goto(f"{base}/{path}", wait_until="networkidle")
                target = out / f"{path[:-len('.html')].replace('/', '__')}-{name}.png"
                page.screenshot(path=str(target), full_page=True)
                written.append(target)
            context.close()
    return written


def measure(site: Path) -> list[dict]:
    """One row per page: requests, bytes, whether it draws a chart, its target."""
    rows = []
    with _site_in_chromium(site) as (browser, base):
        for path in pages(site):
            context = browser.new_context()  # a new context: an empty cache
            page = context.new_page()
            responses = []
            page.on("response", lambda response, seen=responses: seen.append(response))
            page.goto(f"{base}/{path}", wait_until="networkidle")
            size = 0
            for response in responses:
                try:
                    size += len(response.body())
                except Exception:  # noqa: BLE001 - a redirect or aborted response has no body
                    pass
            kind = "chart" if page.locator("div.vega-chart").count() > 0 else "no chart"
            rows.append({"page": path, "requests": len(responses), "bytes": size, "kind": kind,
                         "target": TARGETS[kind], "over": size > TARGETS[kind]})
            context.close()
    return rows


def table(rows: list[dict]) -> str:
    width = max([len(r["page"]) for r in rows] + [4])
    lines = [f"{'page':<{width}}  requests  {'KiB':>7}  {'target KiB':>10}  kind",
             f"{'-' * width}  --------  -------  ----------  --------"]
    for r in rows:
        mark = "  OVER" if r["over"] else ""
        lines.append(f"{r['page']:<{width}}  {r['requests']:>8}  {r['bytes'] / 1024:>7.0f}  "
                     f"{r['target'] / 1024:>10.0f}  {r['kind']}{mark}")
    over = sum(r["over"] for r in rows)
    lines.append(f"{len(rows)} page(s), {over} over target (uncompressed, cold cache)")
    return "\n".join(lines)
