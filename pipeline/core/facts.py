"""Figures in a workload's hand-written texts come from data, never from a person.

A ``reference:`` text names a fact its neutral module computed from the data
(``Problem.facts``, stored with every result and tabled by ``aggregate``) as
``{facts.NAME}`` or ``{facts.NAME:FORMAT}`` (a Python number format such as
``.1%``); page writing fills it from the facts table. A figure typed by hand (a
percentage, "about 35 steps", "~2.7") goes stale the day the profile changes, so
``check`` refuses one and names the field.
"""

from __future__ import annotations

import re

from pipeline.core.metrics import missing

#: ``{facts.majority_accuracy:.1%}``; the format is a numeric format spec only
PLACEHOLDER = re.compile(r"\{facts\.([a-z][a-z0-9_]*)(?::([,.0-9]*[%eEfFgGd]?))?\}")
#: what a hand-typed measured figure looks like: a percentage, or a number after
#: "~", "about", "approximately", "roughly", "around"
HAND_FIGURE = re.compile(r"(?:~\s*|\b(?:about|approximately|roughly|around)\s+)\d[\d.,]*(?:\s*%)?|\d[\d.,]*\s*%",
                         re.IGNORECASE)

NOT_MEASURED = "(not measured yet)"


def problems(text: str) -> list[str]:
    """Why ``text`` may not be published as it is (empty when it may)."""
    out = []
    rest = PLACEHOLDER.sub("", text)
    for m in HAND_FIGURE.finditer(rest):
        out.append(f"the figure {m.group(0)!r} is typed by hand; name a fact the workload computes "
                   "instead ({facts.NAME} or {facts.NAME:.1%}), or state none")
    for m in re.finditer(r"\{[^{}]*\}", rest):
        out.append(f"{m.group(0)!r} is not a placeholder; write {{facts.NAME}} or {{facts.NAME:FORMAT}}")
    return out


def names(text: str) -> list[str]:
    """The facts ``text`` refers to, in order."""
    return [m.group(1) for m in PLACEHOLDER.finditer(text)]


def fill(text: str, facts: dict) -> str:
    """``text`` with each placeholder replaced by its fact, formatted; a fact the
    stored results lack reads as not measured, never as a guess."""

    def one(m: re.Match) -> str:
        value = facts.get(m.group(1))
        if missing(value):
            return NOT_MEASURED
        spec = m.group(2) or ""
        if not spec:
            return str(value)
        try:
            number = float(value)
        except (TypeError, ValueError):
            return str(value)
        # a count read back from a table as 77706.0 still prints as a count
        return format(int(number) if number.is_integer() and spec[-1] not in "%eEfFgG" else number, spec)

    return PLACEHOLDER.sub(one, text)
