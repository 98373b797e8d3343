"""The "Redraw a chart yourself" page: the steps of ``docs/notebooks/redraw_a_chart.ipynb``
(its Markdown text and its code cells), read from the notebook itself, so the page shows
the code the site build executes and does not depend on the mkdocs-jupyter plugin.

The executed notebook, with its outputs, is a separate page that mkdocs-jupyter builds
from the same file; this page links to it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

import jinja2
import nbformat
from markupsafe import Markup

from pipeline.publish import escaping

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE = "notebook.md.j2"
NOTEBOOK = Path("docs") / "notebooks" / "redraw_a_chart.ipynb"
#: where the generated page sits in docs/ (the notebook link is made relative to it)
PAGE = "notebook.md"

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{1,5}) ")


def _read(path: Path | str) -> nbformat.NotebookNode:
    nb = nbformat.read(Path(path), as_version=4)
    nbformat.validate(nb)
    return nb


def code_cells(path: Path | str) -> list[str]:
    """The source of every non-empty code cell, in order."""
    return [c.source.strip("\n") for c in _read(path).cells if c.cell_type == "code" and c.source.strip()]


def markdown_cells(path: Path | str) -> list[str]:
    """The text of every non-empty Markdown cell, in order."""
    return [c.source.strip("\n") for c in _read(path).cells if c.cell_type == "markdown" and c.source.strip()]


def _title(text: str) -> tuple[str | None, str]:
    """Split a leading level-1 heading off a Markdown cell: the page has its own title."""
    first, _, rest = text.partition("\n")
    if first.startswith("# "):
        return first[2:].strip(), rest.strip("\n")
    return None, text


def _demote(text: str) -> str:
    """One level deeper for each heading outside code fences: the steps sit under a section
    of the page. (A level-6 heading stays level 6.)"""
    out, fenced = [], False
    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and _HEADING.match(line):
            line = "#" + line
        out.append(line)
    return "\n".join(out)


def steps(path: Path | str) -> tuple[str | None, str, list[dict]]:
    """The notebook's title, its introduction (the text under the title in the first cell)
    and its cells grouped as steps: each Markdown cell with the code cells that follow it
    (code before any Markdown makes a step with no text)."""
    title, intro, grouped = None, "", []
    for cell in _read(path).cells:
        source = cell.source.strip("\n")
        if not source.strip():
            continue
        if cell.cell_type == "markdown":
            if title is None and not grouped:
                title, intro = _title(source)
                if title is not None:
                    continue
                intro = ""
            grouped.append({"markdown": _demote(source), "code": []})
        elif cell.cell_type == "code":
            if not grouped:
                grouped.append({"markdown": "", "code": []})
            grouped[-1]["code"].append(source)
    return title, intro, [s for s in grouped if s["markdown"].strip() or s["code"]]


def context(notebook_path: Path | str, docs_dir: Path | str, page: str = PAGE) -> dict:
    """Everything ``notebook.md.j2`` needs. ``page`` is the generated page's path inside
    ``docs_dir``; the link to the executed notebook is relative to it."""
    notebook_path, docs_dir = Path(notebook_path).resolve(), Path(docs_dir).resolve()
    in_docs = notebook_path.relative_to(docs_dir).as_posix()  # ValueError if it is not under docs/
    page_dir = PurePosixPath(page).parent.as_posix()
    link = PurePosixPath(os.path.relpath(in_docs, page_dir if page_dir != "." else ".")).as_posix()
    title, intro, grouped = steps(notebook_path)
    repo_path = (PurePosixPath(docs_dir.name) / in_docs).as_posix()
    # the notebook is a page of the docs written by hand: its text is Markdown as
    # written, and its paths come from the file system, not from data
    return {
        "notebook_title": title,
        "intro": Markup(_demote(intro)),
        "notebook_link": Markup(link),
        "notebook_repo_path": Markup(repo_path),
        "notebook_name": Markup(notebook_path.name),
        "steps": [{"markdown": Markup(step["markdown"]), "code": [Markup(c) for c in step["code"]]}
                  for step in grouped],
        "code_cells": code_cells(notebook_path),
        "markdown_cells": markdown_cells(notebook_path),
    }


def _env() -> jinja2.Environment:
    # the same environment as pipeline.pages._env, which renders this template in the generator
    return escaping.environment(TEMPLATES)


def render(notebook_path: Path | str, docs_dir: Path | str, page: str = PAGE) -> str:
    """The Markdown page, as text."""
    return _env().get_template(TEMPLATE).render(**context(notebook_path, docs_dir, page))
