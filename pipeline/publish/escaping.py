"""Values from input files reach the pages as text, never as markup.

Everything under ``site_data/`` (results, claims, scenarios, ecosystem figures) and
every name a pull request can choose (a machine folder, a mode in a file name) is
untrusted. The page templates render with :func:`finalize`, so every ``{{ value }}``
is escaped for Markdown and HTML unless the code that built it marked it as
markup; the filters below cover the other contexts a value can land in:

``code``    a code span (``<code>``) that no value can close
``url``     a link target: http(s), an anchor or a relative path, else ``#``
``attr``    an HTML attribute value
``join``    joins items, escaping each that is not markup

Python code that writes Markdown with values inside (FAQ answers, evidence
links) uses :func:`md` on each value and :func:`md_link`, and wraps the result in
:class:`Markup`.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from urllib.parse import quote

import jinja2
from markupsafe import Markup

#: Markdown characters that make links, images, code, attributes (attr_list),
#: emphasis or table cells; backslash-escaped (Python-Markdown honours each)
MD_ACTIVE = re.compile(r"([\\`*_{}\[\]|])")
#: what would start a block construct if the value began a line: a heading, a
#: quote, a list item, an admonition or details block, a rule; written as entities
LINE_START = re.compile(r"^(\s*)(#|>|[+\-](?=\s|$)|[!?=]{3}|\d+[.)](?=\s|$)|[=\-]+(?=\s*$))")
CONTROL = re.compile(r"[\x00-\x1f\x7f\s]+")
SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
SAFE_SCHEMES = {"http", "https"}


def md_text(value) -> str:
    """Plain text that Markdown and HTML show as it is: one line, active
    characters escaped, ``<`` and ``&`` as entities."""
    text = " ".join(str(value).replace("\x00", "").splitlines())
    text = MD_ACTIVE.sub(r"\\\1", text)
    text = LINE_START.sub(lambda m: m[1] + "".join(f"\x00{ord(c)};" for c in m[2]), text)
    # "<" opens tags and autolinks, "&" entities; ">" alone opens nothing
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    return text.replace("\x00", "&#")


def md(value) -> Markup:
    """A value placed in Markdown: markup stays as built, anything else is text."""
    if isinstance(value, Markup):
        return value
    return Markup("–" if value is None else md_text(value))


def finalize(value):
    """Jinja's hook for every ``{{ ... }}``: escape by default."""
    return md(value)


def code(value) -> Markup:
    """Markdown goes on parsing inside an inline ``<code>`` element, so its
    content is escaped as text too; a backtick in the value closes nothing."""
    return Markup(f"<code>{md_text(value)}</code>")


def attr(value) -> Markup:
    return Markup(html.escape(str(value), quote=True))


def url(value) -> Markup:
    """A link target that cannot run script: http(s), an anchor or a relative
    path, percent-encoded so that it cannot end the Markdown link or the
    attribute it sits in; anything else becomes ``#``."""
    raw = str(value or "")
    squeezed = CONTROL.sub("", raw)
    scheme = SCHEME.match(squeezed)
    if scheme and scheme[1].lower() not in SAFE_SCHEMES:
        return Markup("#")
    if not scheme and squeezed.startswith("\\"):
        return Markup("#")
    return Markup(quote(raw.strip(), safe="/:#?&=%.,;@!$+~-_"))


def md_link(text, target) -> Markup:
    """``[text](target)`` with both parts escaped for their place."""
    return Markup(f"[{md(text)}]({url(target)})")


def join(items, separator: str = "") -> Markup:
    """Jinja's ``join``, escaping every item that is not markup."""
    return Markup(md(separator)).join(md(item) for item in items)


def json_for_script(payload) -> Markup:
    """JSON inside ``<script type="application/json">``: no value can close the
    element or open a comment."""
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return Markup(text)


def environment(templates: Path) -> jinja2.Environment:
    """The page templates' environment: every ``{{ value }}`` escaped by
    :func:`finalize`; autoescape on so that macros and filters hand back markup
    that is not escaped twice."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=True,
        finalize=finalize,
    )
    env.filters.update({"code": code, "url": url, "attr": attr, "join": join, "md": md, "md_link": md_link})
    return env
