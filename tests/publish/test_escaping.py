"""Unit tier: values from input files reach a page as text (pipeline/publish/escaping.py),
checked against Python-Markdown with the site's own extensions."""

from __future__ import annotations

import html as html_mod
import json
import re

import markdown
import pytest
from helpers import ROOT
from markupsafe import Markup
from mkdocs.utils.yaml import yaml_load

from pipeline.publish import escaping

EXTENSIONS = [e if isinstance(e, str) else next(iter(e))
              for e in yaml_load((ROOT / "mkdocs.yml").read_text())["markdown_extensions"]]
EXTENSIONS = [e for e in EXTENSIONS if e != "pymdownx.snippets"]


def render(text: str) -> str:
    return markdown.markdown(text, extensions=EXTENSIONS)


@pytest.mark.parametrize("value", [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))", "![x](y)",
    "`code` *em* _em_ {: onclick=alert(1) }", "a | b", "<https://example.com>", "&lt;b&gt;",
])
def test_markdown_text_renders_as_the_same_text(value):
    html = render(escaping.md_text(value))
    tags = re.findall(r"<[^>]+>", html)
    assert tags == ["<p>", "</p>"], tags
    assert html_mod.unescape(re.sub(r"<[^>]+>", "", html)).strip() == value


@pytest.mark.parametrize("value", ["# heading", "- item", "1. item", "> quote", "!!! note", "???+ note", "---"])
def test_a_value_at_the_start_of_a_line_opens_no_block(value):
    html = render(escaping.md_text(value))
    assert html.startswith("<p>") and html.count("<p>") == 1
    assert "<h1" not in html and "<li" not in html and "<blockquote" not in html and "admonition" not in html


def test_newlines_cannot_start_a_block():
    assert "admonition" not in render("x " + escaping.md_text("a\n!!! danger\n    boom"))


def test_numbers_and_plain_text_stay_readable():
    assert escaping.md_text("0.0001") == "0.0001" and escaping.md_text("64 -> 10") == "64 -> 10"


@pytest.mark.parametrize("target, expected", [
    ("javascript:alert(1)", "#"), ("JaVa\tScRiPt:alert(1)", "#"), (" data:text/html,x", "#"),
    ("vbscript:x", "#"), ("https://example.com/a b", "https://example.com/a%20b"),
    ("claims.md#some-id", "claims.md#some-id"), ("../environment.md#m\")x", "../environment.md#m%22%29x"),
])
def test_link_targets_are_http_or_relative(target, expected):
    assert escaping.url(target) == expected


def test_code_spans_cannot_be_closed_by_a_value():
    html = render("x " + escaping.code("`</code><img src=x onerror=alert(1)>` [a](javascript:b)") + " y")
    assert "<img" not in html and "<a " not in html and html.count("<code>") == 1


def test_json_in_a_script_element_cannot_close_it():
    text = escaping.json_for_script({"label": "</script><script>alert(1)</script>", "x": "a&b"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"label": "</script><script>alert(1)</script>", "x": "a&b"}


def test_templates_escape_by_default_and_keep_markup(tmp_path):
    (tmp_path / "t.md.j2").write_text("{{ v }} {{ m }} {{ items | join(', ') }} {{ absent }}\n")
    env = escaping.environment(tmp_path)
    out = env.get_template("t.md.j2").render(v="<b>[x](y)</b>", m=Markup("<em>ok</em>"),
                                             items=["a|b", Markup("<i>c</i>")], absent=None)
    assert out == "&lt;b>\\[x\\](y)&lt;/b> <em>ok</em> a\\|b, <i>c</i> –\n"
