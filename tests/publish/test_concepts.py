"""pipeline/publish/concepts.py: the Concept map's code, located in the real files, and
its page template."""

from __future__ import annotations

import pytest
from helpers import ROOT, WORKLOADS, page_environment, write_code

from pipeline.core.frameworks import FRAMEWORKS
from pipeline.publish.concepts import CONCEPTS, SymbolNotFound, context, locate

# ---------------------------------------------------------------- locate


def test_locate_function_method_decorators_and_rules(tmp_path):
    path = write_code(tmp_path, '''
        import functools


        @functools.cache
        @other
        def top():
            return 1


        class Model:
            def __init__(self, mode):
                self.a = 1
                # about b
                # more about b
                self.b = dict(
                    x=1,
                )
                if mode == "eager":
                    self.c = 3
                else:
                    self.c = 4

            @staticmethod
            def helper():
                return 2
    ''', "code.py")
    assert locate(path, "top") == (4, 7)
    assert locate(path, "Model") == (10, 25)
    assert locate(path, "Model.__init__") == (11, 21)
    assert locate(path, "Model.helper") == (23, 25)
    # a statement with the comments above it, a range of statements, a compound statement
    assert locate(path, "Model.__init__", first="self.b = dict(") == (13, 17)
    assert locate(path, "Model.__init__", first="self.a", last="self.b") == (12, 17)
    assert locate(path, "Model.__init__", first='if mode == "eager"') == (18, 21)


def test_locate_missing_symbol_names_file_and_symbol(tmp_path):
    path = write_code(tmp_path, "def f():\n    return 1\n", "code.py")
    with pytest.raises(SymbolNotFound, match=r"code\.py.*'Model\.step'"):
        locate(path, "Model.step")
    with pytest.raises(SymbolNotFound, match=r"code\.py.*'g'"):
        locate(path, "g")
    with pytest.raises(SymbolNotFound, match=r"code\.py: f: no statement whose first line contains 'nope'"):
        locate(path, "f", first="nope")
    with pytest.raises(SymbolNotFound, match="no such file"):
        locate(tmp_path / "absent.py", "f")


# ---------------------------------------------------------------- the real repository


def test_every_concept_locates_within_its_file():
    ctx = context(WORKLOADS, ROOT)
    assert [c["title"] for c in ctx["concepts"]] == [
        "Model state", "Training loop", "Randomness", "In-place updates", "Debugging"]
    for concept in ctx["concepts"]:
        assert [t["framework"] for t in concept["tabs"]] == list(FRAMEWORKS)
        for tab in concept["tabs"]:
            n_lines = len((ROOT / tab["file"]).read_text().splitlines())
            assert 1 <= tab["start"] <= tab["end"] <= n_lines, tab
            assert tab["include"] == f'--8<-- "{tab["file"]}:{tab["start"]}:{tab["end"]}"'
            assert tab["file"] in ctx["sources"]
            # the range starts at the symbol, or at a statement (or its comments) of the rule
            first_line = (ROOT / tab["file"]).read_text().splitlines()[tab["start"] - 1].strip()
            example = next(c for c in CONCEPTS if c.title == concept["title"]).examples[tab["framework"]]
            if example.first is None:
                name = example.symbol.rsplit(".", 1)[-1]
                assert first_line.startswith((f"def {name}", f"class {name}", "@")), first_line
            else:
                assert first_line.startswith("#") or example.first in first_line
    assert set(ctx["sources"]) == {e.file for c in CONCEPTS for e in c.examples.values()}
    assert "workloads/mlp_digits/torch_impl.py" in ctx["sources"]


def test_concept_examples_prefer_mlp_digits():
    files = [e.file for c in CONCEPTS for e in c.examples.values()]
    assert sum(f.startswith("workloads/mlp_digits/") for f in files) >= 15
    for c in CONCEPTS:
        assert 2 <= c.explanation.count(". ") + 1 <= 5, c.title
        for ex in c.examples.values():
            assert ex.text.strip(), (c.title, ex.file)


def test_concepts_page_renders_tabs_with_indented_snippets():
    ctx = context(WORKLOADS, ROOT)
    text = page_environment().get_template("concepts.md.j2").render(**ctx)
    assert text.split("\n", 1)[1].startswith("# Concept map\n")  # after the generated-page banner
    for title in ("Model state", "Training loop", "Randomness", "In-place updates", "Debugging"):
        assert f"\n## {title}\n" in text
    assert text.count('=== "PyTorch"\n') == 5 and text.count('=== "Keras 3"\n') == 5
    tab = ctx["concepts"][0]["tabs"][0]
    assert f'\n    ```python title="{tab["file"]}: make_mlp (lines {tab["start"]}-{tab["end"]})" ' \
           f'linenums="{tab["start"]}"\n    {tab["include"]}\n    ```\n' in text
    assert "(workloads/mlp_digits.md#the-code-that-ran)" in text
    # through the site's Markdown extensions, the snippets expand inside the tabs
    markdown = pytest.importorskip("markdown")
    pytest.importorskip("pymdownx")
    html = markdown.markdown(
        text,
        extensions=["admonition", "attr_list", "md_in_html", "tables", "toc", "pymdownx.details",
                    "pymdownx.highlight", "pymdownx.superfences", "pymdownx.tabbed", "pymdownx.snippets"],
        extension_configs={"pymdownx.tabbed": {"alternate_style": True},
                           "pymdownx.snippets": {"base_path": [str(ROOT)], "check_paths": True}},
    )
    assert html.count('class="tabbed-set') == 5
    assert "--8&lt;--" not in html and "--8<--" not in html
    assert "make_mlp" in html and "GradientTape" in html and "donate_argnums" in html
