"""Lines of code and distinct framework APIs, computed from the implementation files.

Two counts per implementation file (``workloads/<name>/<framework>_impl.py``):

``lines``
    logical source lines: physical lines that carry at least one token other than a
    comment, a line break, an indent or dedent, or a docstring (the string that opens
    a module, class or function body). Blank lines, comment lines and docstrings do
    not count; every physical line of a statement split over several lines does.
``apis``
    the distinct fully qualified names of framework APIs the file reaches through its
    imports, found with :mod:`ast`. Every import form is followed (``import torch``,
    ``import torch.nn as nn``, ``from torch import nn``, ``from flax import nnx``,
    imports inside functions) and so are plain aliases (``layers = tf.keras.layers``);
    each attribute chain or name that starts at an imported framework name is
    resolved to its dotted path (``nn.Linear`` -> ``torch.nn.Linear``, ``jnp.mean``
    -> ``jax.numpy.mean``) and counted once, as written in full
    (``torch.nn.functional.cross_entropy``, not also ``torch.nn``).

What is not counted, by design:

* methods called on objects (``optimizer.step()``, ``loss.backward()``,
  ``tape.gradient(...)``): which class an object has cannot be known without running
  the code, so these calls are invisible to this count;
* type annotations (``x: torch.Tensor``, ``-> jax.Array``): optional, and they do
  not run;
* NumPy and the standard library, and names a local variable or argument shadows.

Which import roots belong to a framework is :data:`ROOTS`. A Keras 3 implementation
may import its backend's framework too (``import torch`` next to ``import keras``);
those names count, labelled by their own root.

A data-parallel workload (one with a ``single_device`` version) is left out: its files
are counted against that version's by :mod:`pipeline.publish.scale_out`.

A count is a proxy for how much one must write and know, not a verdict on a framework.
"""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

import pandas as pd

from pipeline import REPO_ROOT
from pipeline.contract import NEUTRAL_FILE
from pipeline.core import results
from pipeline.core.frameworks import FRAMEWORKS

#: Import roots whose names count as a framework's APIs.
ROOTS: dict[str, frozenset[str]] = {
    "torch": frozenset({"torch"}),
    # TensorFlow's Keras, reached as tf.keras, keras or the tf_keras package
    "tensorflow": frozenset({"tensorflow", "keras", "tf_keras"}),
    "jax": frozenset({"jax", "flax", "optax", "orbax"}),
    # plus a backend's framework where a Keras implementation imports it
    "keras": frozenset({"keras", "tensorflow", "jax", "flax", "optax", "torch"}),
}

COLUMNS = ["workload", "framework", "framework_label", "file", "lines", "api_count", "apis",
           "neutral_lines"]

_NOT_CODE = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
             tokenize.ENDMARKER, tokenize.ENCODING}
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp,
           ast.SetComp, ast.DictComp, ast.GeneratorExp)


# ---------------------------------------------------------------- lines


def _docstring_spans(tree: ast.Module) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) positions of every docstring expression."""
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                doc = body[0]
                spans.append(((doc.lineno, doc.col_offset), (doc.end_lineno, doc.end_col_offset)))
    return spans


def code_lines(source: str) -> dict[int, str]:
    """The logical source lines of ``source`` (see the module docstring), by line number,
    each as written with its trailing comment removed."""
    spans = _docstring_spans(ast.parse(source))
    physical = source.splitlines()
    lines: set[int] = set()
    comments: dict[int, int] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.start[1]
        if tok.type in _NOT_CODE:
            continue
        if tok.type == tokenize.STRING and any(a <= tok.start and tok.end <= b for a, b in spans):
            continue
        lines.update(range(tok.start[0], tok.end[0] + 1))
    return {n: physical[n - 1][:comments.get(n)].rstrip() for n in sorted(lines)}


def count_lines(source: str) -> int:
    """Logical source lines of ``source`` (see the module docstring)."""
    return len(code_lines(source))


# ---------------------------------------------------------------- APIs


def _chain(node: ast.expr) -> tuple[str, list[str]] | None:
    """``a.b.c`` -> ("a", ["b", "c"]); None unless the chain ends at a plain name."""
    attrs = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return node.id, attrs[::-1]
    return None


def _resolve(node: ast.expr, scope: dict[str, str | None]) -> str | None:
    """The dotted path an attribute chain or name stands for, if it starts at an import."""
    chain = _chain(node)
    if chain is None:
        return None
    base = scope.get(chain[0])
    if base is None:
        return None
    return ".".join([base, *chain[1]])


def _local_nodes(nodes):
    """The nodes of one scope in source order, not entering nested scopes (whose
    decorators, defaults, bases and first iterable belong to this scope, though)."""
    for node in nodes:
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield from _local_nodes(node.decorator_list + node.args.defaults
                                    + [d for d in node.args.kw_defaults if d is not None])
        elif isinstance(node, ast.ClassDef):
            yield from _local_nodes(node.decorator_list + node.bases + node.keywords)
        elif isinstance(node, ast.Lambda):
            yield from _local_nodes(node.args.defaults
                                    + [d for d in node.args.kw_defaults if d is not None])
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            yield from _local_nodes([node.generators[0].iter])
        else:
            yield from _local_nodes(list(ast.iter_child_nodes(node)))


def _arg_names(args: ast.arguments) -> list[str]:
    every = args.posonlyargs + args.args + args.kwonlyargs
    every += [a for a in (args.vararg, args.kwarg) if a is not None]
    return [a.arg for a in every]


class _ApiCollector:
    """Walks a module scope by scope: first the names each scope binds (imports and
    aliases map to a dotted path, every other binding shadows with None), then the
    uses, which are resolved against those bindings."""

    def __init__(self, roots: frozenset[str]):
        self.roots = roots
        self.found: set[str] = set()

    def module(self, tree: ast.Module) -> set[str]:
        self._scope(tree.body, {}, [])
        return self.found

    # bindings ------------------------------------------------------------

    def _bindings(self, body: list[ast.AST], outer: dict, params: list[str]) -> dict:
        scope = dict(outer)
        for name in params:
            scope[name] = None
        declared_outer: set[str] = set()
        handled: set[int] = set()  # alias targets, bound already
        for node in _local_nodes(body):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        scope[alias.asname] = alias.name
                    else:  # `import a.b` binds `a`
                        root = alias.name.split(".")[0]
                        scope[root] = root
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name == "*":
                        continue
                    name = alias.asname or alias.name
                    # relative imports are the project's own code
                    scope[name] = f"{node.module}.{alias.name}" if node.level == 0 and node.module else None
            elif (isinstance(node, ast.Assign) and len(node.targets) == 1
                  and isinstance(node.targets[0], ast.Name)):
                target = node.targets[0]
                if target.id not in declared_outer:
                    scope[target.id] = _resolve(node.value, scope)
                handled.add(id(target))
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                declared_outer.update(node.names)
            elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                if id(node) not in handled and node.id not in declared_outer:
                    scope[node.id] = None
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                scope[node.name] = None
            elif isinstance(node, ast.ExceptHandler) and node.name:
                scope[node.name] = None
            elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
                scope[node.name] = None
            elif isinstance(node, ast.MatchMapping) and node.rest:
                scope[node.rest] = None
        return scope

    def _scope(self, body: list[ast.AST], outer: dict, params: list[str], is_class: bool = False):
        scope = self._bindings(body, outer, params)
        # functions nested in a class body do not see the class's names
        enclosing = outer if is_class else scope
        for node in body:
            self._use(node, scope, enclosing)

    # uses ----------------------------------------------------------------

    def _record(self, path: str | None) -> bool:
        if path is not None and path.split(".")[0] in self.roots:
            self.found.add(path)
            return True
        return False

    def _use(self, node: ast.AST, scope: dict, enclosing: dict) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for expr in node.decorator_list + node.args.defaults:
                self._use(expr, scope, enclosing)
            for expr in node.args.kw_defaults:
                if expr is not None:
                    self._use(expr, scope, enclosing)
            self._scope(node.body, enclosing, _arg_names(node.args))
            return
        if isinstance(node, ast.ClassDef):
            for expr in node.decorator_list + node.bases + node.keywords:
                self._use(expr, scope, enclosing)
            self._scope(node.body, enclosing, [], is_class=True)
            return
        if isinstance(node, ast.Lambda):
            for expr in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
                self._use(expr, scope, enclosing)
            inner = {**scope, **dict.fromkeys(_arg_names(node.args))}
            self._use(node.body, inner, inner)
            return
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            self._use(node.generators[0].iter, scope, enclosing)
            targets = [n.id for g in node.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)]
            inner = {**scope, **dict.fromkeys(targets)}
            for i, gen in enumerate(node.generators):
                if i:
                    self._use(gen.iter, inner, inner)
                for cond in gen.ifs:
                    self._use(cond, inner, inner)
            parts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            for part in parts:
                self._use(part, inner, inner)
            return
        if isinstance(node, ast.AnnAssign):  # the annotation is not counted
            for part in (node.target, node.value):
                if part is not None:
                    self._use(part, scope, enclosing)
            return
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            # `layers = tf.keras.layers` is an alias: its uses count, not the alias itself
            if scope.get(node.targets[0].id) is not None and _chain(node.value) is not None:
                return
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            if self._record(_resolve(node, scope)):
                return
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            self._record(_resolve(node, scope))
            return
        for child in ast.iter_child_nodes(node):
            self._use(child, scope, enclosing)


def framework_apis(source: str, framework: str) -> list[str]:
    """Sorted distinct framework API names ``source`` uses (see the module docstring)."""
    if framework not in ROOTS:
        raise KeyError(f"unknown framework {framework!r}; known: {', '.join(ROOTS)}")
    return sorted(_ApiCollector(ROOTS[framework]).module(ast.parse(source)))


def measure_file(path: Path, framework: str) -> dict:
    """``{"lines", "apis", "api_count"}`` of one implementation file."""
    source = Path(path).read_text()
    try:
        apis = framework_apis(source, framework)
    except SyntaxError as err:
        raise SyntaxError(f"{path}: {err}") from None
    return {"lines": count_lines(source), "apis": apis, "api_count": len(apis)}


# ---------------------------------------------------------------- table and page


def _relative(path: Path) -> str:
    path = Path(path).resolve()
    try:
        return path.relative_to(REPO_ROOT.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def table(workloads: dict) -> pd.DataFrame:
    """One row per workload of ``workloads`` x implemented framework (columns :data:`COLUMNS`)."""
    rows = []
    for name, workload in workloads.items():
        if workload.single_device:
            # its files are the single-device version's plus the changes, which
            # pipeline/publish/scale_out.py counts; here they would count that model twice
            continue
        neutral = count_lines((workload.folder / NEUTRAL_FILE).read_text())
        for framework in workload.frameworks:
            path = workload.impl_path(framework)
            measured = measure_file(path, framework)
            rows.append({
                "workload": name,
                "framework": framework,
                "framework_label": FRAMEWORKS[framework].label,
                "file": _relative(path),
                "lines": measured["lines"],
                "api_count": measured["api_count"],
                "apis": " ".join(measured["apis"]),
                "neutral_lines": neutral,
            })
    return pd.DataFrame(rows, columns=COLUMNS)


def write(out_csv: Path, workloads: dict) -> pd.DataFrame:
    """Write :func:`table` of ``workloads`` to ``out_csv``."""
    frame = table(workloads)
    out_csv = Path(out_csv)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    results.replace_file(out_csv, frame.to_csv(index=False))
    return frame


def page_context(frame: pd.DataFrame, workloads: dict) -> dict:
    """Context of ``templates/ergonomics.md.j2``: ``table`` (rows, with ``api_list``),
    ``summary`` (per framework: medians over the workloads it implements),
    ``workloads`` (name -> title, in the order the pages list them) and
    ``neutral_lines`` (name -> lines of the neutral workload.py)."""
    titles = {name: w.title for name, w in workloads.items() if name in set(frame["workload"])}
    rows = []
    for row in frame.to_dict("records"):
        apis = row["apis"] if isinstance(row["apis"], str) else ""
        rows.append({**row, "lines": int(row["lines"]), "api_count": int(row["api_count"]),
                     "neutral_lines": int(row["neutral_lines"]), "api_list": apis.split()})
    summary = []
    for framework, fw in FRAMEWORKS.items():
        mine = frame[frame["framework"] == framework]
        if mine.empty:
            continue
        summary.append({
            "framework": framework,
            "framework_label": fw.label,
            "workloads": int(len(mine)),
            "median_lines": float(mine["lines"].median()),
            "median_apis": float(mine["api_count"].median()),
        })
    neutral = {row["workload"]: row["neutral_lines"] for row in rows}
    return {"table": rows, "summary": summary, "workloads": titles, "neutral_lines": neutral}
