"""Update ``site_data/ecosystem/snapshot.json`` from the public APIs.

One parsing function per source turns a decoded response into figures; they are
pure so the tests run them on recorded responses. ``refresh`` fetches every
figure and never loses one: where a fetch fails it keeps the stored figure if
that has a value, and otherwise stores it as unknown (null) with the URL, the
day and the error. The file is written (atomically) only once it validates.

    python -m pipeline refresh
"""

from __future__ import annotations

import gzip
import json
import re
import statistics
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from packaging.version import InvalidVersion, Version

from pipeline.core import snapshot
from pipeline.core.ecosystem import PUBLIC_IDS
from pipeline.core.frameworks import FRAMEWORKS
from pipeline.core.results import write_atomic

TIMEOUT_S = 10
USER_AGENT = "framework-comparison-ecosystem-refresh/1 (python urllib)"


@dataclass(frozen=True)
class Response:
    body: Any  # the decoded JSON
    headers: dict[str, str] = field(default_factory=dict)  # names in lower case


class FetchError(Exception):
    """No usable response: no network, an HTTP error, or a body that is not JSON."""


Fetch = Callable[[str], Response]


def http_fetch(url: str, timeout: float = TIMEOUT_S) -> Response:
    request = urllib.request.Request(
        url, headers={"User-Agent": USER_AGENT, "Accept": "application/json", "Accept-Encoding": "gzip"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            raw = resp.read()
            headers = {k.lower(): v for k, v in resp.headers.items()}
    except urllib.error.HTTPError as err:
        raise FetchError(f"HTTP {err.code} {err.reason}") from None
    except (urllib.error.URLError, OSError) as err:  # DNS, refused, timeout
        raise FetchError(f"network error: {getattr(err, 'reason', err)}") from None
    # urllib does not undo Content-Encoding; the Stack Exchange API always gzips
    if headers.get("content-encoding") == "gzip":
        raw = gzip.decompress(raw)
    try:
        return Response(json.loads(raw), headers)
    except ValueError as err:
        raise FetchError(f"not JSON: {err}") from None


# -- where each figure comes from (identifiers from PUBLIC_IDS, URL-quoted) -----

PYPI_URL = "https://pypi.org/pypi/{}/json"
PYPISTATS_URL = "https://pypistats.org/api/packages/{}/recent"
GITHUB_REPO_URL = "https://api.github.com/repos/{}"
GITHUB_CONTRIBUTORS_URL = "https://api.github.com/repos/{}/contributors?per_page=1&anon=true"
STACKEXCHANGE_URL = "https://api.stackexchange.com/2.3/tags/{}/info?site=stackoverflow"
OPENALEX_URL = "https://api.openalex.org/works?filter=fulltext.search:{},publication_year:{}&per-page=1"


def api_url(template: str, *parts: object) -> str:
    return template.format(*(quote(str(p), safe="/") for p in parts))


# -- parsers: decoded response -> {figure: {"value": ..., "note"/"error": ...}} ---

def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} is {value!r}, not a count")
    return value


def _uploaded(text: str) -> datetime:
    # PyPI writes both "2024-01-30T17:28:30.325206Z" and "2026-10-28T15:16:25Z"
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def parse_pypi(body: dict, retrieved: date) -> dict:
    """Release figures of one PyPI project.

    A release is a final (not pre- or dev-) version with at least one file that is
    not yanked; its day is the UTC day of its earliest such upload (wheels for new
    platforms are sometimes added weeks later). Releases after ``retrieved`` are
    ignored, so a recorded response gives the same figures on any later day.
    """
    project = body["info"]["name"]
    releases: list[tuple[date, Version]] = []
    for text, files in body["releases"].items():
        try:
            version = Version(text)
        except InvalidVersion:
            continue  # pre-PEP 440 versions cannot be ordered
        times = [_uploaded(f["upload_time_iso_8601"]) for f in files if not f.get("yanked")]
        if version.is_prerelease or not times:
            continue
        day = min(times).date()
        if day <= retrieved:
            releases.append((day, version))
    if not releases:
        raise ValueError(f"no final, unyanked release of {project} up to {retrieved}")
    start = retrieved - timedelta(days=365)
    recent = sorted(day for day, _ in releases if day > start)
    # several versions on one day (a backport next to a new release) are one
    # release day, so same-day gaps of 0 do not drag the median down
    days = sorted(set(recent))
    gaps = [(b - a).days for a, b in zip(days, days[1:], strict=False)]
    latest_day, latest = max(releases, key=lambda r: r[1])
    window = f"first uploaded {start + timedelta(days=1)}..{retrieved}"
    cadence = ({"value": statistics.median(gaps),
                "note": f"median of {len(gaps)} gaps between {len(days)} release days {window}"}
               if gaps else {"value": None, "error": f"fewer than two release days {window}"})
    return {
        "releases_last_year": {"value": len(recent),
                               "note": f"final, unyanked releases of {project} {window}"},
        "days_between_releases": cadence,
        "latest_release": {"value": str(latest), "note": "highest final, unyanked version"},
        "latest_release_date": {"value": latest_day.isoformat(), "note": f"first upload of {project} {latest}"},
    }


def parse_pypistats(body: dict) -> dict:
    return {"monthly_downloads": {"value": _count(body["data"]["last_month"], "data.last_month"),
                                  "note": f"downloads of {body['package']} last month as pypistats.org counts them"}}


def parse_github_repo(body: dict) -> dict:
    return {"github_stars": {"value": _count(body["stargazers_count"], "stargazers_count")}}


_LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]+)*)")


def last_page(link_header: str) -> int | None:
    """The ``page`` number of the rel="last" link in a GitHub ``Link`` header, e.g.
    ``<https://api.github.com/repositories/1/contributors?per_page=1&page=2>; rel="next",
    <...&page=4000>; rel="last"`` -> 4000; None when there is no last link."""
    for url, params in _LINK.findall(link_header or ""):
        rels = re.search(r';\s*rel\s*=\s*"?([^";]*)"?', params)
        if rels and "last" in rels.group(1).split():
            pages = parse_qs(urlsplit(url).query).get("page")
            if not pages:
                raise ValueError(f"rel=last link without a page number: {url}")
            return int(pages[0])
    return None


def parse_github_contributors(body: list, headers: dict[str, str]) -> dict:
    """With ``per_page=1`` each page holds one contributor, so the last page's
    number is the count; without a Link header the one page is all there is."""
    page = last_page(headers.get("link", ""))
    count = page if page is not None else len(body)
    return {"github_contributors": {"value": count, "note": "anonymous contributors (commits by email) included"}}


def parse_stackexchange(body: dict, tag: str) -> dict:
    items = body["items"]
    if not items:
        raise ValueError(f"no Stack Overflow tag {tag!r}")
    note = f"questions tagged [{items[0]['name']}]"
    return {"stackoverflow_questions": {"value": _count(items[0]["count"], "items[0].count"), "note": note}}


def parse_openalex_count(body: dict) -> int:
    return _count(body["meta"]["count"], "meta.count")


def paper_shares(counts: dict[str, int], terms: dict[str, str], year: int) -> dict[str, dict]:
    """Each framework's share of all framework mentions in ``year``'s works.

    The denominator is the sum of the four counts, Keras included, so the four
    shares add up to 1. It is a share of mentions, not of papers: a work that
    mentions PyTorch and TensorFlow counts once for each, because OpenAlex
    counts each search separately and the overlap is not available.
    """
    total = sum(counts.values())
    if total == 0:
        raise ValueError(f"no works of {year} mention any framework")
    searched = ", ".join(terms[name] for name in counts)
    out = {}
    for name, count in counts.items():
        note = (f"{count:,} of {total:,} mentions of {searched} in {year} works "
                f"(OpenAlex full-text search); a work mentioning two frameworks counts for each")
        if name == "jax":
            note += "; 'jax' also matches non-software uses such as JAX mice"
        out[name] = {"value": round(count / total, 4), "note": note}
    return out


# -- the refresh ----------------------------------------------------------------

_PARSE_ERRORS = (KeyError, IndexError, TypeError, ValueError, AttributeError)


def _sources(name: str, today: date) -> list[tuple[str, tuple[str, ...], Callable[[Response], dict]]]:
    """(url, figures it gives, parse) for one framework, OpenAlex aside."""
    ids = PUBLIC_IDS[name]
    return [
        (api_url(PYPI_URL, ids.pypi_project),
         ("releases_last_year", "days_between_releases", "latest_release", "latest_release_date"),
         lambda r: parse_pypi(r.body, today)),
        (api_url(PYPISTATS_URL, ids.pypi_project), ("monthly_downloads",), lambda r: parse_pypistats(r.body)),
        (api_url(GITHUB_REPO_URL, ids.github_repo), ("github_stars",), lambda r: parse_github_repo(r.body)),
        (api_url(GITHUB_CONTRIBUTORS_URL, ids.github_repo), ("github_contributors",),
         lambda r: parse_github_contributors(r.body, r.headers)),
        (api_url(STACKEXCHANGE_URL, ids.stackoverflow_tag), ("stackoverflow_questions",),
         lambda r: parse_stackexchange(r.body, ids.stackoverflow_tag)),
    ]


def _attempt(fetch: Fetch, url: str, parse: Callable[[Response], Any]) -> tuple[Any, str | None]:
    """(parsed, None), or (None, why): a failed fetch and an unreadable answer alike."""
    try:
        return parse(fetch(url)), None
    except FetchError as err:
        return None, str(err)
    except _PARSE_ERRORS as err:
        return None, f"unparseable response: {type(err).__name__}: {err}"


def refresh(path: Path = snapshot.SNAPSHOT_PATH, fetch: Fetch | None = None, today: date | None = None) -> dict:
    """Fetch every figure and rewrite the snapshot at ``path``; returns a report:
    ``updated`` (figures with a new value), ``kept`` and ``unknown`` (figure ->
    error: an earlier value kept, or none to keep)."""
    fetch = fetch or http_fetch
    today = today or datetime.now(UTC).date()
    path = Path(path)
    # a corrupt snapshot raises here rather than be overwritten and lose figures
    old = snapshot.load(path) if path.exists() else {"schema_version": 1, "frameworks": {}}
    new: dict[str, dict] = {name: {} for name in FRAMEWORKS}
    report: dict[str, Any] = {"path": str(path), "retrieved": today.isoformat(),
                              "updated": [], "kept": {}, "unknown": {}}

    def store(name: str, fig: str, url: str, got: dict) -> None:
        new[name][fig] = {"value": got["value"], "source": url, "retrieved": today.isoformat(),
                          **{k: got[k] for k in ("note", "error") if got.get(k)}}
        if got["value"] is None:
            report["unknown"][f"{name}.{fig}"] = got["error"]
        else:
            report["updated"].append(f"{name}.{fig}")

    def failed(name: str, fig: str, url: str, error: str) -> None:
        earlier = old["frameworks"].get(name, {}).get(fig)
        if earlier is not None and earlier["value"] is not None:
            new[name][fig] = earlier  # an older known value beats an unknown one
            report["kept"][f"{name}.{fig}"] = error
        else:
            store(name, fig, url, {"value": None, "error": error})

    for name in FRAMEWORKS:
        for url, figures, parse in _sources(name, today):
            got, error = _attempt(fetch, url, parse)
            for fig in figures:
                if error:
                    failed(name, fig, url, error)
                else:
                    store(name, fig, url, got[fig])

    # the share needs every framework's count, so one failure makes all unknown
    year = today.year - 1  # the last full year
    terms = {name: PUBLIC_IDS[name].openalex_term for name in FRAMEWORKS}
    urls = {name: api_url(OPENALEX_URL, term, year) for name, term in terms.items()}
    counts = {name: _attempt(fetch, url, lambda r: parse_openalex_count(r.body)) for name, url in urls.items()}
    errors = {name: error for name, (_, error) in counts.items() if error}
    shares = {}
    if not errors:
        try:
            shares = paper_shares({name: count for name, (count, _) in counts.items()}, terms, year)
        except ValueError as err:  # not one mention anywhere
            errors = {name: str(err) for name in urls}
    for name, url in urls.items():
        if errors:
            failed(name, "paper_share", url,
                   errors.get(name) or f"needs every framework's count; failed: {', '.join(errors)}")
        else:
            store(name, "paper_share", url, shares[name])

    doc = {"schema_version": 1, "frameworks": new}
    snapshot.validate(doc, str(path))  # raises before anything is written
    write_atomic(path, doc)
    return report
