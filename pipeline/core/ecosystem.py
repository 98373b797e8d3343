"""The ecosystem figures: what each one means, and where the public ones come from.

Two kinds of figure sit side by side on the ecosystem page:

* ``live`` figures are measured on this machine from the installed packages
  (``pipeline.measure.ecosystem_live``); they change when the environment changes.
* ``snapshot`` figures come from public sources (PyPI, GitHub, Stack Overflow,
  OpenAlex) and are stored with their source URL and retrieval date in
  ``site_data/ecosystem/snapshot.json`` (read and checked by ``pipeline.core.snapshot``),
  updated by ``pipeline.measure.ecosystem_refresh``; they are dated, never silently
  re-measured.

This module holds only the catalogue, so the page, the schemas' checks and the
two producers agree on one list of names.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.core.frameworks import FRAMEWORKS


@dataclass(frozen=True)
class Figure:
    name: str
    title: str
    #: None for a text figure (version, licence, date); the checks use it to tell
    #: text figures from numeric ones, so keep it None exactly for those.
    unit: str | None
    kind: str  # "live" or "snapshot"
    better: str | None  # "higher", "lower", or None where more is not better or worse

    @property
    def numeric(self) -> bool:
        return self.unit is not None


_FIGURES = (
    # -- live: measured on this machine --------------------------------------
    Figure("version", "Installed version", None, "live", None),
    Figure("license", "Licence", None, "live", None),
    Figure("pythons", "Supported Python versions", None, "live", None),
    Figure("footprint_mb", "Installed size (own distributions plus the dependencies only it brings)",
           "MiB", "live", "lower"),
    Figure("dependencies", "Distributions in the dependency closure", "distributions", "live", "lower"),
    Figure("exclusive_dependencies", "Dependencies not already required by the project's base",
           "distributions", "live", "lower"),
    Figure("import_time_s", "Cold import time (median over fresh processes)", "s", "live", "lower"),
    # -- snapshot: public sources, dated -------------------------------------
    Figure("github_stars", "GitHub stars", "stars", "snapshot", "higher"),
    Figure("github_contributors", "GitHub contributors (anonymous included)", "contributors", "snapshot", "higher"),
    # Release cadence is not ordered: frequent releases are both fixes and churn.
    Figure("releases_last_year", "PyPI releases in the last 365 days", "releases", "snapshot", None),
    Figure("days_between_releases", "Median days between release days", "days", "snapshot", None),
    Figure("latest_release", "Latest release", None, "snapshot", None),
    Figure("latest_release_date", "Latest release date", None, "snapshot", None),
    Figure("monthly_downloads", "PyPI downloads last month", "downloads", "snapshot", "higher"),
    # More questions means more users but also more trouble; not ordered.
    Figure("stackoverflow_questions", "Stack Overflow questions with the tag", "questions", "snapshot", None),
    Figure("paper_share", "Share of framework mentions in papers of the last full year", "fraction",
           "snapshot", "higher"),
)

FIGURES: dict[str, Figure] = {f.name: f for f in _FIGURES}
LIVE_FIGURES = tuple(f.name for f in _FIGURES if f.kind == "live")
SNAPSHOT_FIGURES = tuple(f.name for f in _FIGURES if f.kind == "snapshot")


@dataclass(frozen=True)
class PublicIds:
    """Where a framework is found in each public source."""

    github_repo: str
    pypi_project: str  # the main distribution; releases and downloads are counted for it alone
    stackoverflow_tag: str
    openalex_term: str  # a full-text search term, matched anywhere in a work's text


PUBLIC_IDS: dict[str, PublicIds] = {
    "torch": PublicIds("pytorch/pytorch", "torch", "pytorch", "pytorch"),
    "tensorflow": PublicIds("tensorflow/tensorflow", "tensorflow", "tensorflow", "tensorflow"),
    # "jax" in full text also matches The Jackson Laboratory's "JAX" mice and
    # Jacksonville; the paper share says so in its note rather than guess a
    # narrower term that would miss papers that only write "JAX".
    "jax": PublicIds("jax-ml/jax", "jax", "jax", "jax"),
    "keras": PublicIds("keras-team/keras", "keras", "keras", "keras"),
}

# A framework added to the harness without its public identifiers would silently
# drop out of the ecosystem page; fail at import instead.
if set(PUBLIC_IDS) != set(FRAMEWORKS):
    raise RuntimeError("pipeline.core.ecosystem.PUBLIC_IDS must list exactly pipeline.core.frameworks.FRAMEWORKS")
