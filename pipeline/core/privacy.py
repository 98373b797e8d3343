"""What a stored text must not carry: the contributor's local paths and user name.

A measured process's stderr tail is kept with its result and shown on the site, and a
framework's warning names the files it came from: the checkout's path, a home
directory, and with it the user name. The harness replaces the checkout's path with
``<checkout>`` and the home directory with ``~`` before anything is stored
(:func:`scrub`); ``verify`` refuses a result that still holds a user's home path
(:func:`leaks`), so a result edited or produced elsewhere is caught too."""

from __future__ import annotations

import re
from pathlib import Path

CHECKOUT = "<checkout>"
#: a path that names a user: /home/NAME/..., /Users/NAME/..., C:\Users\NAME\...
USER_PATH = re.compile(r"(?:/home/|/Users/|[A-Za-z]:\\Users\\)[^/\\\s'\"]+")


def scrub(text: str, checkout: Path, home: Path | None = None) -> str:
    """``text`` with the checkout's path as ``<checkout>`` and the home directory as ``~``
    (the longer first, so a checkout inside the home directory keeps its own name)."""
    for path, name in sorted(((str(checkout), CHECKOUT), (str(home) if home else "", "~")),
                             key=lambda item: -len(item[0])):
        if path and path != "/":
            text = text.replace(path.rstrip("/") + "/", name + "/").replace(path.rstrip("/"), name)
    return text


def leaks(text: str | None) -> list[str]:
    """The user-named paths left in ``text`` (each once, in order)."""
    return list(dict.fromkeys(USER_PATH.findall(text or "")))
