"""MkDocs hooks (``hooks:`` in mkdocs.yml): trim what the highlighter and the notebook
plugin write into pages, for the page-weight targets in ``browse.TARGETS``.

- **Code listings.** Pygments wraps every token in a span; names and punctuation
  are most of them (about 60% of the spans of a workload page's code, which is
  most of the page). The theme draws names in the code's own colour, and
  punctuation in a barely lighter grey, so their spans are unwrapped: the text is
  the same, a workload page is about a third lighter.
- **The executed notebook.** mkdocs-jupyter inlines JupyterLab's whole stylesheet
  (about 560 KB) into the page; ``assets/css/notebook.css`` gives the same cells
  the few rules they need, linked from that page alone.

Both work on the HTML as the tools write it and change nothing else: a listing or a
notebook page they do not recognise is left as it was.
"""

from __future__ import annotations

import re

#: the token classes whose span is dropped: Name and Punctuation (Pygments' short names)
PLAIN_TOKENS = ("n", "p")
_PLAIN_SPAN = re.compile(r'<span class="(?:%s)">([^<]*)</span>' % "|".join(PLAIN_TOKENS))
_CODE_BLOCK = re.compile(r"(<pre[^>]*>)(.*?)(</pre>)", re.S)
#: JupyterLab's stylesheet as mkdocs-jupyter inlines it (its first rule scopes it to .jupyter-wrapper)
_JUPYTERLAB_CSS = re.compile(r'<style type="text/css">\s*@charset "UTF-8";\s*\.jupyter-wrapper\s*\{.*?</style>', re.S)
NOTEBOOK_CSS = "assets/css/notebook.css"


def unwrap_plain_tokens(html: str) -> str:
    """Drop the spans of name and punctuation tokens inside ``<pre>`` blocks."""
    return _CODE_BLOCK.sub(lambda m: m.group(1) + _PLAIN_SPAN.sub(r"\1", m.group(2)) + m.group(3), html)


def drop_jupyterlab_css(output: str, stylesheet_url: str) -> str:
    """Replace the inlined JupyterLab stylesheet with a link to the compact one."""
    if not _JUPYTERLAB_CSS.search(output):
        return output
    link = f'<link rel="stylesheet" href="{stylesheet_url}">'
    return _JUPYTERLAB_CSS.sub(lambda _: link, output, count=1)


def on_page_content(html, page, config, files):  # noqa: ARG001 - MkDocs' hook signature
    return unwrap_plain_tokens(html)


def on_post_page(output, page, config):  # noqa: ARG001 - MkDocs' hook signature
    depth = page.file.url.count("/")
    return drop_jupyterlab_css(output, "../" * depth + NOTEBOOK_CSS)
