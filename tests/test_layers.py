"""Unit tier: the package's imports run one way. ``pipeline.contract`` and the package
root import nothing of ours; ``core`` imports neither half; ``measure`` and ``publish``
never import each other; only the command line (``cli``, ``__main__`` and
``commands``) may reach everything; and no module imports another that imports it back, at module level or
inside a function. Read from the source with ``ast``, so a circle hidden in a
function body counts too."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from helpers import ROOT

PACKAGE = ROOT / "pipeline"
#: what each part may import of ours, besides itself
ALLOWED = {
    "root": set(),
    "contract": {"root"},
    "core": {"root", "contract"},
    "measure": {"root", "contract", "core"},
    "publish": {"root", "contract", "core"},
    "commands": {"root", "contract", "core", "measure", "publish"},
}


def module_names(package: Path = PACKAGE) -> dict[str, Path]:
    out = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Our modules ``name`` imports anywhere in its file (``from a import b`` names the
    module ``a.b`` where that is a module, else ``a``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found |= {f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names}
    return {m for m in found if m in known and m != name}


def graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    known = module_names(package)
    return {name: imports_of(name, path, known) for name, path in known.items()}


def part(module: str) -> str:
    """root, contract, core, measure, publish or commands."""
    pieces = module.split(".")
    if len(pieces) == 1:
        return "root"
    if pieces[1] in ("cli", "__main__", "commands"):
        return "commands"
    return pieces[1]


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def upward(edges: dict[str, set[str]]) -> list[str]:
    return sorted(f"{a} imports {b}" for a, bs in edges.items() for b in bs
                  if part(b) != part(a) and part(b) not in ALLOWED[part(a)])


def test_the_package_has_no_import_circle():
    assert circles(graph()) == []


def test_no_part_imports_a_part_above_it_or_beside_it():
    edges = graph()
    assert {part(m) for m in edges} == set(ALLOWED)
    assert upward(edges) == []


def test_a_circle_inside_a_function_and_an_upward_import_are_found(tmp_path):
    """The checks themselves, on a made-up package: ``a`` imports ``b`` at the top,
    ``b`` imports ``a`` inside a function; ``core.x`` imports the measuring half."""
    root = tmp_path / "pipeline"
    for folder in ("publish", "core", "measure"):
        (root / folder).mkdir(parents=True)
        (root / folder / "__init__.py").write_text("")
    (root / "__init__.py").write_text("")
    (root / "publish" / "a.py").write_text("from pipeline.publish import b\n")
    (root / "publish" / "b.py").write_text("def f():\n    from . import a\n    return a\n")
    (root / "core" / "x.py").write_text("from pipeline.measure.y import z\n")
    (root / "measure" / "y.py").write_text("z = 1\n")
    edges = graph(root)
    assert circles(edges) == [["pipeline.publish.a", "pipeline.publish.b"]]
    assert upward(edges) == ["pipeline.core.x imports pipeline.measure.y"]


def test_a_measuring_command_loads_nothing_of_the_publishing_half():
    """Each DAG job is one command in a fresh interpreter: ``run`` imports its own module
    only, not the publishing half (pandas, Altair) it never uses."""
    code = ("import sys; from pipeline import cli; cli.parser('run'); "
            "print(sorted(m for m in sys.modules if m.startswith(('pipeline.publish', 'pandas', 'altair'))))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
