"""The ecosystem data package: catalogue, snapshot loading, refresh parsers and the
refresh's keep-what-we-had rules on recorded responses, and the live figures'
dependency logic on fake metadata. No network, no framework imports."""

from __future__ import annotations

import json
import os
from datetime import date
from email.message import Message
from pathlib import Path

import pytest
from helpers import FIXTURES

from pipeline.core import snapshot
from pipeline.core.ecosystem import FIGURES, LIVE_FIGURES, PUBLIC_IDS, SNAPSHOT_FIGURES
from pipeline.core.frameworks import FRAMEWORKS
from pipeline.core.snapshot import SnapshotError
from pipeline.measure import ecosystem_live as live
from pipeline.measure import ecosystem_refresh as refresh
from pipeline.measure.ecosystem_refresh import FetchError, Response

FIX = FIXTURES / "ecosystem"
TODAY = date(2026, 11, 22)  # the day the PyPI fixtures were recorded


def fixture(name: str):
    return json.loads((FIX / name).read_text())


# -- catalogue ------------------------------------------------------------------

def test_catalogue_names_and_kinds():
    assert set(LIVE_FIGURES) == {"version", "license", "pythons", "footprint_mb", "dependencies",
                                 "exclusive_dependencies", "import_time_s"}
    assert set(SNAPSHOT_FIGURES) == {"github_stars", "github_contributors", "releases_last_year",
                                     "days_between_releases", "latest_release", "latest_release_date",
                                     "monthly_downloads", "stackoverflow_questions", "paper_share"}
    assert set(FIGURES) == set(LIVE_FIGURES) | set(SNAPSHOT_FIGURES)
    assert all(f.better in ("higher", "lower", None) for f in FIGURES.values())
    assert FIGURES["import_time_s"].better == "lower" and FIGURES["github_stars"].better == "higher"
    assert not FIGURES["latest_release"].numeric and FIGURES["paper_share"].numeric
    assert set(PUBLIC_IDS) == set(FRAMEWORKS)
    assert PUBLIC_IDS["jax"].github_repo == "jax-ml/jax"


# -- parsers on the recorded PyPI responses -----------------------------------------

def test_pypi_torch():
    got = refresh.parse_pypi(fixture("pypi_torch.json"), TODAY)
    # releases first uploaded 2025-11-23..2026-11-22: 2.10.0 (01-21), 2.11.0 (03-23),
    # 2.12.0 (05-13), 2.12.1 (06-17), 2.13.0 (07-08), 2.14.0 (09-02), 2.14.1 (09-30),
    # 2.15.0 (10-28); 2.9.1 (2025-11-12) is out. Gaps 61, 51, 35, 21, 56, 28, 28 -> median 35.
    assert got["releases_last_year"]["value"] == 8
    assert got["days_between_releases"]["value"] == 35
    assert got["latest_release"]["value"] == "2.15.0"
    assert got["latest_release_date"]["value"] == "2026-10-28"


def test_pypi_keras_same_day_releases_are_one_release_day():
    got = refresh.parse_pypi(fixture("pypi_keras.json"), TODAY)
    # 11 versions: 3.13.0 (12-17), 3.13.1 (01-14), 3.13.2 + 3.12.1 (01-30), 3.14.0 (04-03),
    # 3.14.1 + 3.12.2 (05-07), 3.15.0 (06-24), 3.12.3 (06-26), 3.15.1 + 3.12.4 (07-29):
    # 8 release days, gaps 28, 16, 63, 34, 48, 2, 33 -> median 33.
    assert got["releases_last_year"]["value"] == 11
    assert got["days_between_releases"]["value"] == 33
    # the highest version, not the last upload (3.12.4 came out after 3.15.1 that day)
    assert got["latest_release"]["value"] == "3.15.1"
    assert got["latest_release_date"]["value"] == "2026-07-29"


def test_pypi_ignores_releases_after_the_retrieval_day():
    got = refresh.parse_pypi(fixture("pypi_torch.json"), date(2026, 1, 1))
    # 2.6.0 (01-29), 2.7.0 (04-23), 2.7.1 (06-04), 2.8.0 (08-06), 2.9.0 (10-15), 2.9.1 (11-12):
    # gaps 84, 42, 63, 70, 28 -> median 63
    assert got["releases_last_year"]["value"] == 6
    assert got["days_between_releases"]["value"] == 63
    assert (got["latest_release"]["value"], got["latest_release_date"]["value"]) == ("2.9.1", "2025-11-12")


def test_pypi_skips_yanked_only_releases_and_prereleases():
    jax = refresh.parse_pypi(fixture("pypi_jax.json"), date(2024, 9, 12))
    assert jax["latest_release"]["value"] == "0.4.31"  # 0.4.32 (2024-09-11) is yanked
    assert jax["latest_release_date"]["value"] == "2024-07-30"
    tf = refresh.parse_pypi(fixture("pypi_tensorflow.json"), TODAY)
    assert tf["latest_release"]["value"] == "2.21.0"  # not 2.22.0rc0 (2026-09-22)
    assert tf["releases_last_year"]["value"] == 1
    # one release: no gap to take a median of, said rather than invented
    assert tf["days_between_releases"]["value"] is None
    assert "fewer than two release days" in tf["days_between_releases"]["error"]


def test_pypi_refuses_a_project_without_releases():
    with pytest.raises(ValueError, match="no final"):
        refresh.parse_pypi({"info": {"name": "x"}, "releases": {"1.0rc1": [
            {"upload_time_iso_8601": "2026-01-01T00:00:00Z", "yanked": False}]}}, TODAY)


# -- parsers on responses written after the documented formats -----------------------

def test_simple_parsers():
    assert refresh.parse_pypistats(fixture("pypistats_torch.json"))["monthly_downloads"]["value"] == 45678901
    assert refresh.parse_github_repo(fixture("github_repo_torch.json"))["github_stars"]["value"] == 91234
    got = refresh.parse_stackexchange(fixture("stackexchange_pytorch.json"), "pytorch")
    assert got["stackoverflow_questions"]["value"] == 23456
    assert refresh.parse_openalex_count(fixture("openalex_jax_2025.json")) == 500
    with pytest.raises(ValueError, match="no Stack Overflow tag"):
        refresh.parse_stackexchange({"items": []}, "nope")
    with pytest.raises(ValueError, match="not a count"):
        refresh.parse_github_repo({"stargazers_count": "91234"})


def test_link_header_last_page():
    header = fixture("github_contributors_torch.headers.json")["link"]
    assert refresh.last_page(header) == 4187
    reordered = ('<https://api.github.com/x?page=77&per_page=1>; rel="last", '
                 '<https://api.github.com/x?page=2&per_page=1>; rel="next"')
    assert refresh.last_page(reordered) == 77
    # on the last page itself GitHub sends only prev and first
    assert refresh.last_page('<https://a/x?page=1>; rel="first", <https://a/x?page=3>; rel="prev"') is None
    assert refresh.last_page("") is None
    with pytest.raises(ValueError, match="without a page"):
        refresh.last_page('<https://a/x?per_page=1>; rel="last"')


def test_contributors_count_from_link_or_body():
    body = fixture("github_contributors_torch.json")
    headers = fixture("github_contributors_torch.headers.json")
    assert refresh.parse_github_contributors(body, headers)["github_contributors"]["value"] == 4187
    assert refresh.parse_github_contributors(body, {})["github_contributors"]["value"] == 1


def test_paper_shares():
    counts = {n: refresh.parse_openalex_count(fixture(f"openalex_{PUBLIC_IDS[n].openalex_term}_2025.json"))
              for n in FRAMEWORKS}
    shares = refresh.paper_shares(counts, {n: PUBLIC_IDS[n].openalex_term for n in FRAMEWORKS}, 2025)
    # 6000, 3000, 500, 500 of 10000 mentions
    assert {n: s["value"] for n, s in shares.items()} == {"torch": 0.6, "tensorflow": 0.3, "jax": 0.05,
                                                          "keras": 0.05}
    assert "JAX mice" in shares["jax"]["note"]


# -- refresh -------------------------------------------------------------------------

def recorded_fetch(failing: set[str] = frozenset(), bodies: dict | None = None):
    """A fetch serving the fixtures by URL; any other URL fails like a dead network."""
    responses = {refresh.api_url(refresh.PYPI_URL, n): Response(fixture(f"pypi_{n}.json")) for n in FRAMEWORKS}
    responses[refresh.api_url(refresh.PYPISTATS_URL, "torch")] = Response(fixture("pypistats_torch.json"))
    responses[refresh.api_url(refresh.GITHUB_REPO_URL, "pytorch/pytorch")] = Response(fixture("github_repo_torch.json"))
    responses[refresh.api_url(refresh.GITHUB_CONTRIBUTORS_URL, "pytorch/pytorch")] = Response(
        fixture("github_contributors_torch.json"), fixture("github_contributors_torch.headers.json"))
    responses[refresh.api_url(refresh.STACKEXCHANGE_URL, "pytorch")] = Response(fixture("stackexchange_pytorch.json"))
    for n in FRAMEWORKS:
        term = PUBLIC_IDS[n].openalex_term
        responses[refresh.api_url(refresh.OPENALEX_URL, term, 2025)] = Response(fixture(f"openalex_{term}_2025.json"))
    responses.update({url: Response(body) for url, body in (bodies or {}).items()})
    calls = []

    def fetch(url: str) -> Response:
        calls.append(url)
        if url in failing or url not in responses:
            raise FetchError("network error: [Errno -3] Temporary failure in name resolution")
        return responses[url]

    fetch.calls = calls
    return fetch


def test_refresh_stores_values_and_unknowns(tmp_path):
    path = tmp_path / "snapshot.json"
    report = refresh.refresh(path, fetch=recorded_fetch(), today=TODAY)
    doc = snapshot.load(path)
    torch = doc["frameworks"]["torch"]
    assert {k: torch[k]["value"] for k in SNAPSHOT_FIGURES} == {
        "github_stars": 91234, "github_contributors": 4187, "releases_last_year": 8, "days_between_releases": 35,
        "latest_release": "2.15.0", "latest_release_date": "2026-10-28", "monthly_downloads": 45678901,
        "stackoverflow_questions": 23456, "paper_share": 0.6}
    assert torch["github_stars"] == {"value": 91234, "source": "https://api.github.com/repos/pytorch/pytorch",
                                     "retrieved": "2026-11-22"}
    assert doc["frameworks"]["keras"]["latest_release"]["value"] == "3.15.1"
    stars = doc["frameworks"]["jax"]["github_stars"]
    assert stars == {"value": None, "source": "https://api.github.com/repos/jax-ml/jax", "retrieved": "2026-11-22",
                     "error": "network error: [Errno -3] Temporary failure in name resolution"}
    assert set(doc["frameworks"]) == set(FRAMEWORKS)
    assert all(set(figs) == set(SNAPSHOT_FIGURES) for figs in doc["frameworks"].values())
    assert "jax.github_stars" in report["unknown"] and "torch.github_stars" in report["updated"]
    assert snapshot.oldest_and_newest(doc) == (TODAY, TODAY)


def test_refresh_keeps_an_earlier_value_when_the_fetch_fails(tmp_path):
    path = tmp_path / "snapshot.json"
    earlier = {"value": 80000, "source": "https://api.github.com/repos/pytorch/pytorch", "retrieved": "2026-01-05"}
    unknown = {"value": None, "source": "https://api.github.com/repos/jax-ml/jax", "retrieved": "2026-01-05",
               "error": "HTTP 403 rate limit exceeded"}
    path.write_text(json.dumps({"schema_version": 1, "frameworks": {"torch": {"github_stars": earlier},
                                                                    "jax": {"github_stars": unknown}}}))
    fetch = recorded_fetch(failing={refresh.api_url(refresh.GITHUB_REPO_URL, "pytorch/pytorch")})
    report = refresh.refresh(path, fetch=fetch, today=TODAY)
    doc = snapshot.load(path)
    assert doc["frameworks"]["torch"]["github_stars"] == earlier  # value, source and date untouched
    assert report["kept"] == {"torch.github_stars": "network error: [Errno -3] Temporary failure in name resolution"}
    # nothing earlier to keep: unknown again, with today's date and today's error
    assert doc["frameworks"]["jax"]["github_stars"]["retrieved"] == "2026-11-22"
    assert doc["frameworks"]["jax"]["github_stars"]["error"].startswith("network error")
    assert snapshot.oldest_and_newest(doc) == (date(2026, 1, 5), TODAY)


def test_refresh_treats_an_unparseable_response_as_a_failure(tmp_path):
    path = tmp_path / "snapshot.json"
    fetch = recorded_fetch(bodies={refresh.api_url(refresh.PYPISTATS_URL, "torch"): {"data": {}}})
    refresh.refresh(path, fetch=fetch, today=TODAY)
    got = snapshot.load(path)["frameworks"]["torch"]["monthly_downloads"]
    assert got["value"] is None and got["error"] == "unparseable response: KeyError: 'last_month'"


def test_paper_share_is_unknown_when_one_count_is_missing(tmp_path):
    path = tmp_path / "snapshot.json"
    fetch = recorded_fetch(failing={refresh.api_url(refresh.OPENALEX_URL, "keras", 2025)})
    refresh.refresh(path, fetch=fetch, today=TODAY)
    frameworks = snapshot.load(path)["frameworks"]
    assert [frameworks[n]["paper_share"]["value"] for n in FRAMEWORKS] == [None] * 4
    assert "failed: keras" in frameworks["torch"]["paper_share"]["error"]
    assert frameworks["keras"]["paper_share"]["error"].startswith("network error")


def test_refresh_writes_nothing_when_validation_fails(tmp_path, monkeypatch):
    path = tmp_path / "snapshot.json"
    refresh.refresh(path, fetch=recorded_fetch(), today=TODAY)
    before = path.read_bytes()
    # a parser bug that yields a value the schema refuses
    monkeypatch.setattr(refresh, "parse_github_repo", lambda body: {"github_stars": {"value": [1, 2]}})
    with pytest.raises(SnapshotError, match=r"frameworks\.torch\.github_stars\.value"):
        refresh.refresh(path, fetch=recorded_fetch(), today=date(2026, 11, 23))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["snapshot.json"]  # no temporary file left


def test_refresh_refuses_to_overwrite_a_corrupt_snapshot(tmp_path):
    path = tmp_path / "snapshot.json"
    path.write_text("{not json")
    with pytest.raises(SnapshotError, match="not a readable JSON snapshot"):
        refresh.refresh(path, fetch=recorded_fetch(), today=TODAY)
    assert path.read_text() == "{not json"


# -- snapshot.load -------------------------------------------------------------------

GOOD = {"value": 1, "source": "https://api.github.com/repos/pytorch/pytorch", "retrieved": "2026-11-22"}


def write_snapshot(tmp_path, frameworks) -> Path:
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps({"schema_version": 1, "frameworks": frameworks}))
    return path


@pytest.mark.parametrize("framework, figure, entry, message", [
    ("torch", "github_stars", {k: v for k, v in GOOD.items() if k != "source"},
     "frameworks.torch.github_stars: 'source' is a required property"),
    ("torch", "github_stars", {k: v for k, v in GOOD.items() if k != "retrieved"},
     "frameworks.torch.github_stars: 'retrieved' is a required property"),
    ("torch", "github_stars", {**GOOD, "retrieved": "2026-02-30"},
     "frameworks.torch.github_stars.retrieved: '2026-02-30' is not a real date"),
    ("torch", "github_stars", {**GOOD, "retrieved": "22/11/2026"},
     "frameworks.torch.github_stars.retrieved: '22/11/2026' does not match"),
    ("torch", "github_stars", {**GOOD, "source": "api.github.com/repos/pytorch/pytorch"},
     "frameworks.torch.github_stars.source: 'api.github.com/repos/pytorch/pytorch' does not match"),
    ("torch", "github_stars", {**GOOD, "value": None},
     "frameworks.torch.github_stars: 'error' is a required property"),
    ("torch", "github_stars", {**GOOD, "value": "many"},
     "frameworks.torch.github_stars.value: 'many' is not a number"),
    ("torch", "latest_release_date", {**GOOD, "value": "2026-13-01"},
     "frameworks.torch.latest_release_date.value: '2026-13-01' is not a real date"),
    ("torch", "github_forks", GOOD, "frameworks.torch.github_forks: unknown figure"),
    ("torch", "version", GOOD, "frameworks.torch.version: a live figure"),
    ("mxnet", "github_stars", GOOD, "frameworks.mxnet: unknown framework"),
])
def test_load_refuses(tmp_path, framework, figure, entry, message):
    path = write_snapshot(tmp_path, {framework: {figure: entry}})
    with pytest.raises(SnapshotError) as err:
        snapshot.load(path)
    assert str(err.value).startswith(f"{path}: field {message}")


def test_load_refuses_corrupt_json(tmp_path):
    path = tmp_path / "snapshot.json"
    path.write_text('{"schema_version": 1, "frameworks": {')
    with pytest.raises(SnapshotError, match=f"^{path}: field \\(top level\\): not a readable JSON snapshot"):
        snapshot.load(path)


def test_load_and_dates_of_known_figures(tmp_path):
    path = write_snapshot(tmp_path, {
        "torch": {"github_stars": GOOD, "monthly_downloads": {**GOOD, "retrieved": "2026-03-01"}},
        "jax": {"github_stars": {**GOOD, "value": None, "retrieved": "2025-01-01", "error": "HTTP 403"}}})
    doc = snapshot.load(path)
    assert snapshot.figure(doc, "torch", "github_stars")["value"] == 1
    assert snapshot.figure(doc, "keras", "github_stars") is None
    # the unknown figure's older date does not count
    assert snapshot.oldest_and_newest(doc) == (date(2026, 3, 1), date(2026, 11, 22))
    assert snapshot.oldest_and_newest({"frameworks": {}}) == (None, None)


def test_committed_snapshot_loads():
    if not snapshot.SNAPSHOT_PATH.exists():
        pytest.skip("no snapshot committed yet")
    doc = snapshot.load(snapshot.SNAPSHOT_PATH)
    assert set(doc["frameworks"]) == set(FRAMEWORKS)


# -- live: dependency closure on fake metadata ------------------------------------------

FAKE = {
    "fw": ["dep-a>=1", "Dep_B; python_version >= '3'", "win-only; sys_platform == 'win32'",
           "testing-dep; extra == 'test'", "dep-c[extra1]", "ghost>=2"],
    "dep-a": ["shared", "dep-a-child"],
    "dep-a-child": ["DEP.A"],  # a cycle, under another spelling of the name
    "dep-b": ["shared"],
    "dep-c": ["dep-c-extra-only; extra == 'extra1'"],
    "dep-c-extra-only": [],
    "shared": [],
    "testing-dep": [],
    "win-only": [],
    "base-root": ["shared", "base-child"],
    "base-child": [],
}


def fake_lookup(name):
    return FAKE.get(name)


def test_closure_evaluates_markers_and_skips_extras():
    found, missing = live.closure(["fw"], fake_lookup, environment={"sys_platform": "linux"})
    assert found == {"fw", "dep-a", "dep-a-child", "dep-b", "dep-c", "shared"}
    assert missing == {"ghost"}
    found, _ = live.closure(["fw"], fake_lookup, environment={"sys_platform": "win32"})
    assert "win-only" in found
    found, _ = live.closure(["fw"], fake_lookup, environment={"python_version": "2.7", "sys_platform": "linux"})
    assert "dep-b" not in found


def test_dependency_sets_and_exclusivity():
    base = ["base-root>=1", "dep-b; extra == 'docs'"]  # an extra of the project is not base
    sets = live.dependency_sets(["fw"], base, fake_lookup, environment={"sys_platform": "linux"})
    assert sets == {
        "dependencies": ["dep-a", "dep-a-child", "dep-b", "dep-c", "ghost", "shared"],
        "exclusive": ["dep-a", "dep-a-child", "dep-b", "dep-c", "ghost"],
        "missing": ["ghost"],
    }


def test_project_base_leaves_the_framework_extras_out():
    base = live.project_requirements()
    assert any(r.startswith("jsonschema") for r in base)
    found, _ = live.closure(base, lambda name: [])
    assert {"jsonschema", "pandas", "snakemake"} <= found
    assert not found & {"torch", "tensorflow", "jax", "flax", "optax"}


def metadata(**fields) -> Message:
    msg = Message()
    for key, value in fields.items():
        for v in value if isinstance(value, list) else [value]:
            msg[key.replace("_", "-")] = v
    return msg


def test_license_and_pythons_from_metadata():
    assert live.license_of(metadata(License_Expression="MIT", License="whatever")) == "MIT"
    assert live.license_of(metadata(License="Apache 2.0")) == "Apache 2.0"
    long_text = "Copyright (c) the authors. " * 10
    assert live.license_of(metadata(License=long_text, Classifier=[
        "License :: OSI Approved :: Apache Software License", "Programming Language :: Python :: 3"])) \
        == "Apache Software License"
    assert live.license_of(metadata()) is None
    meta = metadata(Requires_Python=">=3.10", Classifier=[
        "Programming Language :: Python :: 3.12", "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3 :: Only", "Programming Language :: Python :: 3.11"])
    assert live.pythons_of(meta) == "3.10, 3.11, 3.12 (requires >=3.10)"
    assert live.pythons_of(metadata(Requires_Python=">=3.9")) == "requires >=3.9"


def test_import_times_counts_runs_and_reports_failures():
    samples, error = live.import_times("json", 2, dict(os.environ))
    assert error is None and len(samples) == 2 and all(0 <= s < 5 for s in samples)
    samples, error = live.import_times("no_such_module_xyz", 2, dict(os.environ))
    assert samples == [] and "ModuleNotFoundError" in error


def test_measure_a_framework_that_is_not_installed(tmp_path):
    fake = live.Target("fake", (("no-such-distribution-xyz",),), "no_such_module_xyz")
    doc = live.measure(runs=1, targets={"fake": fake})
    entry = doc["frameworks"]["fake"]
    assert entry["installed"] is False
    assert entry["figures"] == {f: {"value": None, "installed": False} for f in LIVE_FIGURES}
    assert entry["import_times"] == [] and entry["distributions"] == {}
    live.write(tmp_path / "live.json", doc)
    assert json.loads((tmp_path / "live.json").read_text()) == doc


def test_measure_an_installed_distribution(tmp_path):
    # packaging stands in for a framework: installed, tiny, no dependencies
    target = live.Target("pkg", (("no-such-distribution-xyz", "packaging"),), "packaging")
    doc = live.measure(runs=2, targets={"pkg": target})
    entry = doc["frameworks"]["pkg"]
    figures = {k: v["value"] for k, v in entry["figures"].items()}
    assert entry["installed"] is True and len(entry["import_times"]) == 2
    assert figures["version"] == live.importlib.metadata.version("packaging")
    assert figures["dependencies"] == 0 and figures["exclusive_dependencies"] == 0
    assert list(entry["distributions"]) == ["packaging"]
    assert figures["footprint_mb"] == entry["distributions"]["packaging"] > 0
    live.write(tmp_path / "live.json", doc)


def test_live_write_refuses_a_snapshot_figure(tmp_path):
    doc = live.measure(runs=1, targets={"fake": live.Target("fake", (("no-such-distribution-xyz",),), "x")})
    doc["frameworks"]["fake"]["figures"]["github_stars"] = {"value": 1}
    with pytest.raises(live.LiveError, match="field frameworks.fake.figures.github_stars: not a live figure"):
        live.write(tmp_path / "live.json", doc)
    assert not (tmp_path / "live.json").exists()


def test_a_framework_that_needs_a_backend_counts_it_everywhere(monkeypatch):
    """Keras 3: footprint, dependencies and import time all include the backend it runs
    on, the first installed of its list, and every note says which."""
    backend = live.Target("backend", (("packaging",),), "packaging")
    monkeypatch.setitem(live.TARGETS, "backend", backend)
    monkeypatch.setitem(live.TARGETS, "absent", live.Target("absent", (("no-such-distribution-xyz",),), "x"))
    wrapper = live.Target("wrapper", (("pyyaml",),), "yaml", keras_backends=("absent", "backend"))
    entry = live.measure(runs=1, targets={"wrapper": wrapper})["frameworks"]["wrapper"]
    figures = entry["figures"]
    assert set(entry["distributions"]) == {"pyyaml", "packaging"}
    assert figures["footprint_mb"]["value"] == pytest.approx(sum(entry["distributions"].values()), abs=0.02)
    assert "with backend, the backend it runs on here" in figures["footprint_mb"]["note"]
    assert figures["dependencies"]["note"].startswith("with backend")
    assert "KERAS_BACKEND=backend" in figures["import_time_s"]["note"]
