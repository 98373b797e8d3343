"""What it takes to go from one device to many, counted from the implementation files.

A data-parallel workload names its single-device version (``single_device:`` in its
``workload.yaml``): the same model on the same data, trained on one device. For every
framework that implements both, the two files are compared line by line, over their
logical lines as :mod:`pipeline.publish.ergonomics` counts them (no blank lines,
comments or docstrings; indentation kept, so code moved into a new block counts as
changed). ``added`` are lines only the many-device file has, ``removed`` lines only
the single-device file has (a changed line counts once in each). Two shares of the
single-device file's lines:

``rewritten_share``
    ``removed / single_lines``: how much of the code written for one device had to
    change or go. 0 when every line of it survives, new lines around it aside.
``change_share``
    ``(added + removed) / single_lines``: everything that differs, setup included.

The diff itself is kept so the page can show it.

A count, read from source files: the same on every machine, and a proxy for how much
must change, not for how hard it was to find out what to change.
"""

from __future__ import annotations

import difflib
import html
import json
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from pipeline.core import results
from pipeline.core.frameworks import FRAMEWORKS
from pipeline.publish.ergonomics import _relative, code_lines

COLUMNS = ["workload", "single_device", "framework", "framework_label", "single_file", "file", "single_lines",
           "lines", "added", "removed", "rewritten_share", "change_share", "diff"]
#: what a claim predicate ``scale_out: <workload>`` can read (``measure``): its words and which way is better
MEASURES = {
    "rewritten_share": ("the share of the single-device file's lines changed or removed to run on many devices",
                        "lower"),
    "change_share": ("the lines added and removed to run on many devices, as a share of the single-device "
                     "file's lines", "lower"),
}


def compare(single_source: str, source: str, single_name: str, name: str) -> dict:
    """Added, removed and share of ``source`` against ``single_source``, with the unified
    diff of their logical lines (3 lines of context)."""
    before, after = list(code_lines(single_source).values()), list(code_lines(source).values())
    added = removed = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if tag in ("replace", "delete"):
            removed += i2 - i1
        if tag in ("replace", "insert"):
            added += j2 - j1
    diff = list(difflib.unified_diff(before, after, single_name, name, lineterm="", n=3))
    whole = len(before) or None  # an empty single-device file has no shares
    return {"single_lines": len(before), "lines": len(after), "added": added, "removed": removed,
            "rewritten_share": removed / whole if whole else None,
            "change_share": (added + removed) / whole if whole else None, "diff": "\n".join(diff)}


def table(workloads: dict) -> pd.DataFrame:
    """One row per data-parallel workload of ``workloads`` x framework implementing it and its
    single-device version."""
    rows = []
    for name, workload in workloads.items():
        single = workloads.get(workload.single_device) if workload.single_device else None
        if single is None:
            continue
        for framework in workload.frameworks:
            if not single.implements(framework):
                continue
            before, after = single.impl_path(framework), workload.impl_path(framework)
            names = {"single_file": _relative(before), "file": _relative(after)}
            rows.append({"workload": name, "single_device": single.name, "framework": framework,
                         "framework_label": FRAMEWORKS[framework].label, **names,
                         **compare(before.read_text(), after.read_text(), names["single_file"], names["file"])})
    return pd.DataFrame(rows, columns=COLUMNS)


def write(out: Path, workloads: dict) -> pd.DataFrame:
    """Write :func:`table` to ``out`` as JSON records (the diffs are multi-line text)."""
    frame = table(workloads)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    results.replace_file(out, json.dumps(frame.to_dict("records"), indent=1) + "\n")
    return frame


def load(path: Path) -> pd.DataFrame:
    """The table :func:`write` stored (empty with the columns where there is none)."""
    path = Path(path)
    if not path.is_file():
        return pd.DataFrame(columns=COLUMNS)
    return pd.DataFrame(json.loads(path.read_text()), columns=COLUMNS)


def values(frame: pd.DataFrame, workload: str) -> dict[str, dict]:
    """framework -> its row of one workload (without the diff), for a claim."""
    mine = frame[frame["workload"] == workload].drop(columns=["diff"])
    return {row["framework"]: row for row in mine.to_dict("records")}


def _diff_html(diff: str) -> Markup:
    """The unified diff as escaped HTML lines, added and removed ones marked for colour."""
    kinds = {"+": "added", "-": "removed", "@": "hunk"}
    lines = []
    for line in diff.splitlines():
        kind = kinds.get(line[:1]) if not line.startswith(("+++", "---")) else "file"
        text = html.escape(line)
        lines.append(f'<span class="diff-{kind}">{text}</span>' if kind else text)
    return Markup("\n".join(lines))


def page_context(frame: pd.DataFrame, workloads: dict) -> list[dict]:
    """Per data-parallel workload: its single-device version and one row per framework,
    with the diff as escaped HTML (for ``templates/ergonomics.md.j2``); titles and
    replicas from ``workloads``."""
    out = []
    for name, rows in frame.groupby("workload", sort=False):
        records = rows.to_dict("records")
        out.append({"workload": name, "title": workloads[name].title if name in workloads else name,
                    "single_device": records[0]["single_device"],
                    "replicas": workloads[name].replicas("default") if name in workloads else None,
                    "rows": [{**r, "diff_html": _diff_html(r["diff"])} for r in records]})
    return out
