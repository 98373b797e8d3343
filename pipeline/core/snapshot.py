"""The stored public figures: ``site_data/ecosystem/snapshot.json``, read back validated.

Public figures (stars, downloads, releases...) cannot be re-measured at will, so
each one is stored with the URL it came from and the day it was retrieved, and
the page shows those dates. A figure that could not be obtained is stored as
``value: null`` with the reason in ``error``: unknown, never a guess.

    {"schema_version": 1,
     "frameworks": {"torch": {"github_stars": {"value": 1, "source": "https://...",
                                               "retrieved": "2026-11-22", "note": "...", "error": "..."}}}}
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from pipeline import REPO_ROOT, SCHEMAS
from pipeline.core import validation
from pipeline.core.ecosystem import FIGURES
from pipeline.core.frameworks import FRAMEWORKS

ROOT = REPO_ROOT
SNAPSHOT_PATH = ROOT / "site_data" / "ecosystem" / "snapshot.json"
SCHEMA_PATH = SCHEMAS / "ecosystem_snapshot.schema.json"

#: Text figures whose value, when known, must be a real date.
DATE_FIGURES = ("latest_release_date",)


class SnapshotError(validation.InputError):
    """A snapshot that cannot be used; the message names the file and the field."""


def _real_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def validate(doc: object, source: str) -> None:
    """Raise SnapshotError naming ``source`` and the first offending field.

    The schema checks the shape (every figure has a source URL and a retrieval
    date; a null value has an error); the rest are checks a schema cannot make
    without copying the catalogue: known frameworks and figures, value types by
    figure, and dates that exist (the schema's pattern lets 2026-02-30 through).
    """
    validation.check(doc, SCHEMA_PATH, source, SnapshotError)
    for name, figures in doc["frameworks"].items():
        if name not in FRAMEWORKS:
            raise SnapshotError(f"{source}: field frameworks.{name}: unknown framework; known: {', '.join(FRAMEWORKS)}")
        for fig_name, fig in figures.items():
            where = f"{source}: field frameworks.{name}.{fig_name}"
            figure = FIGURES.get(fig_name)
            if figure is None:
                raise SnapshotError(f"{where}: unknown figure")
            if figure.kind != "snapshot":
                raise SnapshotError(f"{where}: a {figure.kind} figure, measured on each machine, not stored here")
            if not _real_date(fig["retrieved"]):
                raise SnapshotError(f"{where}.retrieved: {fig['retrieved']!r} is not a real date")
            value = fig["value"]
            if value is None:
                continue
            # bool is an int to Python but true/false is no count
            if figure.numeric and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise SnapshotError(f"{where}.value: {value!r} is not a number")
            if not figure.numeric and not isinstance(value, str):
                raise SnapshotError(f"{where}.value: {value!r} is not a string")
            if fig_name in DATE_FIGURES and not _real_date(value):
                raise SnapshotError(f"{where}.value: {value!r} is not a real date")


def load(path: Path = SNAPSHOT_PATH) -> dict:
    """The snapshot at ``path``, validated; SnapshotError if it cannot be used."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SnapshotError(f"{path}: field (top level): not a readable JSON snapshot: {err}") from None
    validate(doc, str(path))
    return doc


def figure(snapshot: dict, framework: str, name: str) -> dict | None:
    """One stored figure, or None where the snapshot has none for it."""
    return snapshot["frameworks"].get(framework, {}).get(name)


def oldest_and_newest(snapshot: dict) -> tuple[date, date] | tuple[None, None]:
    """Retrieval dates of the oldest and newest known figures, for "as of" on the
    page; unknown (null) figures say nothing about how fresh the data is."""
    days = sorted(
        date.fromisoformat(fig["retrieved"])
        for figures in snapshot["frameworks"].values()
        for fig in figures.values()
        if fig["value"] is not None
    )
    return (days[0], days[-1]) if days else (None, None)
