"""Unit tier: no local path or user name is stored with a result (pipeline/core/privacy.py)."""

from __future__ import annotations

from pathlib import Path

from pipeline.core import privacy


def test_scrub_replaces_the_checkout_and_the_home_directory():
    home, checkout = Path("/home/alice"), Path("/home/alice/src/comparison")
    text = ("  File \"/home/alice/src/comparison/.nox/tests/lib/python3.11/site-packages/tf/x.py\", line 3\n"
            "cache in /home/alice/.cache/jax and /home/alice")
    out = privacy.scrub(text, checkout, home)
    assert "alice" not in out
    assert '"<checkout>/.nox/tests/lib/python3.11/site-packages/tf/x.py"' in out
    assert "~/.cache/jax" in out and out.endswith("and ~")
    # a root of / or no home directory replaces nothing else
    assert privacy.scrub("/usr/lib/x", Path("/"), None) == "/usr/lib/x"


def test_leaks_finds_user_named_paths_once_each():
    text = "warning: /home/bob/x.py and /home/bob/y.py; C:\\Users\\carol\\a.py; /Users/dave/b; /tmp/run/x"
    assert privacy.leaks(text) == ["/home/bob", "C:\\Users\\carol", "/Users/dave"]
    assert privacy.leaks("<checkout>/pipeline/x.py ~/cache") == [] and privacy.leaks(None) == []
