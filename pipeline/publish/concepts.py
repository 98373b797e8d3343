"""The Concept map page: five concepts, each shown side by side in the code that ran.

Nothing here copies code. Each concept names, per framework, a file of the
repository and a symbol in it (``make_mlp``, ``Model.train_step``), optionally
narrowed by a marker-free rule: the statements of that symbol from the first one
whose first line contains ``first`` through the first one from there whose first
line contains ``last`` (comment lines directly above the first statement come
with it). :func:`context` resolves every entry to a line range with :mod:`ast`
and the page includes those lines at build time with pymdownx.snippets
(``--8<-- "path:start:end"``), so the page always shows the current code and a
renamed or deleted symbol fails the build instead of showing stale text.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from pipeline import REPO_ROOT
from pipeline.core.frameworks import FRAMEWORKS

MLP = "workloads/mlp_digits"


class SymbolNotFound(LookupError):
    """A concept entry whose file, symbol or rule does not match the code."""


@dataclass(frozen=True)
class Example:
    """One framework's code for one concept."""

    #: Repository-relative path of the file.
    file: str
    #: ``name`` or ``Class.method``.
    symbol: str
    #: One or two sentences on what this code shows.
    text: str
    #: Optional rule narrowing the symbol to some of its statements.
    first: str | None = None
    last: str | None = None


@dataclass(frozen=True)
class Concept:
    slug: str
    title: str
    explanation: str
    #: framework name -> its example, in FRAMEWORKS order.
    examples: dict[str, Example]


# ---------------------------------------------------------------- locating


def _find(tree: ast.Module, symbol: str) -> ast.AST | None:
    node: ast.AST = tree
    for part in symbol.split("."):
        found = None
        for child in getattr(node, "body", []):
            if (isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                    and child.name == part):
                found = child
        if found is None:
            return None
        node = found
    return node


def _parse(path: Path) -> tuple[ast.Module, list[str]]:
    path = Path(path)
    if not path.is_file():
        raise SymbolNotFound(f"{path}: no such file")
    text = path.read_text()
    return ast.parse(text, filename=str(path)), text.splitlines()


def locate(path: Path, symbol: str, first: str | None = None, last: str | None = None) -> tuple[int, int]:
    """1-based inclusive line range of ``symbol`` in ``path`` (decorators included).

    With ``first``, the range starts at the first statement inside the symbol whose
    first line contains ``first`` (taking any comment lines directly above it) and
    ends with that statement, or with the first statement from there whose first
    line contains ``last``. Raises :class:`SymbolNotFound` naming file and symbol."""
    tree, lines = _parse(path)
    node = _find(tree, symbol)
    if node is None:
        raise SymbolNotFound(f"{path}: no function or class {symbol!r} (write Class.method for a method)")
    start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    if first is None:
        if last is not None:
            raise ValueError("`last` needs `first`")
        return start, node.end_lineno
    statements = sorted(
        (n for n in ast.walk(node) if isinstance(n, ast.stmt) and n is not node),
        key=lambda n: (n.lineno, n.col_offset),
    )

    def search(text: str, after: int) -> ast.stmt:
        for stmt in statements:
            if stmt.lineno >= after and text in lines[stmt.lineno - 1]:
                return stmt
        raise SymbolNotFound(f"{path}: {symbol}: no statement whose first line contains {text!r}"
                             + (f" at or after line {after}" if after > 1 else ""))

    begin = search(first, 1)
    end = search(last, begin.lineno) if last is not None else begin
    lo = begin.lineno
    while lo > 1 and lines[lo - 2].strip().startswith("#"):
        lo -= 1
    return lo, max(begin.end_lineno, end.end_lineno)


# ---------------------------------------------------------------- the concepts


def _backend(framework: str) -> str:
    return f"pipeline/measure/backends/{framework}_backend.py"


CONCEPTS: list[Concept] = [
    Concept(
        slug="model-state",
        title="Model state",
        explanation=(
            "Where a model's parameters live and how the model is built. PyTorch and Keras "
            "(which the TensorFlow implementations use for their layers) keep parameters as "
            "variables owned by layer objects, and the object is the model. JAX transformations "
            "work on pure functions of arrays, so Flax NNX builds a Python object too, but splits "
            "it into a static structure and a tree of arrays before anything is compiled."
        ),
        examples={
            "torch": Example(
                f"{MLP}/torch_impl.py", "make_mlp",
                "`nn.Sequential` chains the modules; each `nn.Linear` creates and registers its weight and "
                "bias as `nn.Parameter` tensors, which `self.net.parameters()` later hands to the optimizer. "
                "PyTorch stores a linear weight as (out, in), so `load_weights` transposes the "
                "shared (in, out) weights.",
            ),
            "tensorflow": Example(
                f"{MLP}/tensorflow_impl.py", "make_mlp",
                "The TensorFlow implementation builds its network with `tf.keras`: a `Sequential` of `Dense` "
                "layers whose kernels and biases are Keras variables (backed by `tf.Variable`), created as soon "
                "as `tf.keras.Input` fixes the input shape; `net.trainable_variables` collects them "
                "for the gradient tape.",
            ),
            "jax": Example(
                f"{MLP}/jax_impl.py", "MLP",
                "An `nnx.Module` is a plain Python object: each `nnx.Linear` attribute holds its kernel and bias "
                "as `nnx.Param` variables, initialised with keys from the `nnx.Rngs` passed in. `Model.__init__` "
                "then calls `nnx.split`, which separates the static graph definition from the state, the tree "
                "of arrays the compiled step takes and returns.",
            ),
            "keras": Example(
                f"{MLP}/keras_impl.py", "make_mlp",
                "The same `Sequential` as in the TensorFlow file, from the multi-backend `keras` package: "
                "`keras.layers.Dense` creates `keras.Variable` kernels and biases that hold arrays of whichever "
                "backend `KERAS_BACKEND` named when Keras was imported.",
            ),
        },
    ),
    Concept(
        slug="training-loop",
        title="Training loop",
        explanation=(
            "One optimisation step: forward pass, loss, gradients of the loss with respect to the "
            "parameters, parameter update. The frameworks differ in how the gradients come about: "
            "recorded during the forward pass and replayed backwards (PyTorch's autograd, TensorFlow's "
            "`GradientTape`), obtained by transforming the loss function (JAX), or computed inside a step "
            "the library writes for you (Keras' `train_on_batch`)."
        ),
        examples={
            "torch": Example(
                f"{MLP}/torch_impl.py", "Model.train_step",
                "`zero_grad` clears each parameter's `.grad`, `loss.backward()` runs backwards through the graph "
                "autograd recorded during the forward pass and accumulates the gradients into `.grad`, and "
                "`optimizer.step()` reads them to update the parameters. In the compile mode `loss_fn` is the "
                "loss compiled by `torch.compile`; the step is written the same way.",
            ),
            "tensorflow": Example(
                f"{MLP}/tensorflow_impl.py", "Model._train_step",
                "The operations run inside `with tf.GradientTape()` are recorded; `tape.gradient` differentiates "
                "the loss with respect to `net.trainable_variables` and `optimizer.apply_gradients` updates them. "
                "The same method runs eagerly or wrapped in `tf.function` (see Debugging).",
            ),
            "jax": Example(
                f"{MLP}/jax_impl.py", "train_step",
                "A function of `(graphdef, state, x, y)`: `nnx.merge` rebuilds model and optimizer from the state, "
                "`nnx.value_and_grad(loss_fn)` returns the loss and its gradients with respect to the `nnx.Param` "
                "variables, `optimizer.update` applies Adam to the merged copy, and `nnx.state` returns the new "
                "state. `jax.jit` compiles the whole function, update included.",
            ),
            "keras": Example(
                f"{MLP}/keras_impl.py", "Model.train_step",
                "No step is written by hand: `train_on_batch` runs the train function Keras builds from the "
                "optimizer and loss given to `compile()` (see Debugging): forward pass, loss, gradients with the "
                "backend's autodiff, update. It returns the loss as a NumPy value on the host.",
            ),
        },
    ),
    Concept(
        slug="randomness",
        title="Randomness",
        explanation=(
            "How random numbers are seeded and drawn. PyTorch, TensorFlow and Keras keep global random "
            "state that one call seeds; JAX has none, so every random function takes an explicit key. "
            "Here every draw that affects a result (initial weights, data split and order, augmentation "
            "offsets) is made once, with NumPy, in the framework-neutral `workload.py` and handed to "
            "all frameworks, so the "
            "framework seeds below only govern initial values that are then overwritten."
        ),
        examples={
            "torch": Example(
                _backend("torch"), "configure",
                "The harness calls `configure` in the measuring process before the model is built; "
                "`torch.manual_seed` seeds PyTorch's global generator on every device, which `nn.Linear`'s "
                "default initialisation draws from before `load_weights` overwrites the values.",
            ),
            "tensorflow": Example(
                _backend("tensorflow"), "configure",
                "`tf.random.set_seed` sets the global seed from which TensorFlow's random ops without a seed "
                "of their own derive one. The `tf.keras` layers draw their initial values through Keras' own "
                "seeding (a default seed taken from Python's `random` module); `load_weights` overwrites them anyway.",
            ),
            "jax": Example(
                f"{MLP}/jax_impl.py", "Model.__init__",
                "There is no global random state to seed (the JAX backend's `configure` receives the seed and "
                "does nothing with it): `nnx.Rngs(0)` holds an explicit key, and each layer's initialiser gets "
                "a new key derived from it by folding in a counter. The shared weights then replace those values.",
                first="nnx.Rngs(0)", last="for i, layer",
            ),
            "keras": Example(
                _backend("keras"), "configure",
                "`keras.utils.set_random_seed` seeds Python's `random` module, NumPy, TensorFlow (when installed) "
                "and, on the PyTorch backend, PyTorch, and resets Keras' global `SeedGenerator`. Keras initialisers "
                "without a seed take theirs from Python's `random` module, so this one call fixes "
                "them on every backend.",
            ),
        },
    ),
    Concept(
        slug="in-place-updates",
        title="In-place updates",
        explanation=(
            "Whether a training step changes parameters and optimizer state where they are, or returns "
            "new values. PyTorch tensors and TensorFlow variables are mutable and updated in place, and "
            "Keras variables behave that way from the outside on every backend. JAX arrays are immutable: "
            "a step returns new state, and buffer donation lets XLA reuse the old memory for it."
        ),
        examples={
            "torch": Example(
                f"{MLP}/torch_impl.py", "Model.load_weights",
                "Methods ending in an underscore mutate a tensor: `copy_` writes the shared weights into the "
                "existing parameters, inside `torch.no_grad()` so that autograd does not record the writes. "
                "`optimizer.step()` in `train_step` updates the parameters and Adam's moment buffers "
                "in place the same way.",
            ),
            "tensorflow": Example(
                f"{MLP}/tensorflow_impl.py", "Model.load_weights",
                "Kernels and biases are variables: `assign` overwrites their value where it lives. "
                "`optimizer.apply_gradients` in the training step assigns to the same variables, and to "
                "the optimizer's own variables (Adam's moments).",
            ),
            "jax": Example(
                f"{MLP}/jax_impl.py", "Model.__init__",
                "After `nnx.split`, parameters and Adam state are a tree of immutable arrays in `self.state`; "
                "the jitted step returns a new tree and `Model.train_step` rebinds `self.state` to it. "
                "`donate_argnums=1` hands the old state's buffers to XLA, which may write the new state into "
                "them, so memory behaves as with an in-place update although nothing is mutated from Python.",
                first="self.graphdef, state = nnx.split", last="self._train_step = jax.jit",
            ),
            "keras": Example(
                f"{MLP}/keras_impl.py", "Model.load_weights",
                "The same `assign` calls as in the TensorFlow file, on `keras.Variable`. On the JAX backend, "
                "where arrays are immutable, `assign` swaps in a new array, and Keras' compiled train step "
                "computes new variable values functionally and assigns them back after each step.",
            ),
        },
    ),
    Concept(
        slug="debugging",
        title="Debugging",
        explanation=(
            "Eager execution runs one operation at a time, so intermediate values can be printed and "
            "stepped through in a debugger. Compiled execution traces the step into a graph once and "
            "then runs the graph: Python code in the step sees abstract values while tracing and does "
            "not run again afterwards. Each framework has a switch between the two; the harness "
            "measures the modes listed on the Methodology page."
        ),
        examples={
            "torch": Example(
                f"{MLP}/torch_impl.py", "Model.__init__",
                "PyTorch is eager by default; `torch.compile` wraps the loss function and the network without "
                "changing how they are called. To debug, call the uncompiled versions, which is what "
                "the eager mode does.",
                first='if mode == "eager"',
            ),
            "tensorflow": Example(
                f"{MLP}/tensorflow_impl.py", "Model.__init__",
                "The eager mode calls the Python methods directly, one operation at a time; `tf.function` traces "
                "them into a graph, and `jit_compile=True` also compiles that graph with XLA. Inside a "
                "`tf.function`, Python's `print` runs only while tracing and shows symbolic tensors (`tf.print` "
                "runs with the graph); `tf.config.run_functions_eagerly(True)` turns every "
                "`tf.function` back into eager code.",
                first='if mode == "eager"',
            ),
            "jax": Example(
                f"{MLP}/jax_impl.py", "Model.__init__",
                "`jax.jit` is applied explicitly, here, to the plain functions `train_step` and `predict`, and jit "
                "is the only mode measured (`Model.__init__` rejects others). Called without the wrapper, or inside "
                "`with jax.disable_jit():`, the same functions run op by op; under jit the arrays are tracers, "
                "so values are inspected with `jax.debug.print`.",
                first="self._train_step = jax.jit", last="self._predict = jax.jit",
            ),
            "keras": Example(
                f"{MLP}/keras_impl.py", "Model.__init__",
                "`compile()` takes `run_eagerly` and `jit_compile`; neither is passed, so Keras uses its default "
                '`jit_compile="auto"`: XLA on JAX and on TensorFlow with a GPU, a `tf.function` without XLA on '
                "a CPU-only TensorFlow, eager on PyTorch. `compile(run_eagerly=True)` would run `train_on_batch` "
                "op by op for debugging; the harness measures only the default.",
                first="self.net.compile(",
            ),
        },
    ),
]


# ---------------------------------------------------------------- page context


def _link(workloads: dict, file: str) -> tuple[str, str]:
    """Where a reader finds the whole file, and the link's text (links are relative
    to a page at the top of docs/)."""
    parts = file.split("/")
    if parts[0] == "workloads":
        return f"workloads/{parts[1]}.md#the-code-that-ran", f"the whole file on the {workloads[parts[1]].title} page"
    return "methodology.md#equal-knobs", "the settings every harness backend applies (Methodology)"


def context(workloads: dict, repo_root: Path = REPO_ROOT) -> dict:
    """Context of ``templates/concepts.md.j2``: ``concepts`` (each with ``tabs``, one per
    framework: label, file, start, end, include, text, link) and ``sources`` (every file
    used, repository-relative, for the DAG's inputs). A link to a workload's page names
    it by its title in ``workloads``."""
    repo_root = Path(repo_root)
    concepts, sources = [], []
    for concept in CONCEPTS:
        tabs = []
        for framework, fw in FRAMEWORKS.items():
            ex = concept.examples.get(framework)
            if ex is None:
                continue
            start, end = locate(repo_root / ex.file, ex.symbol, ex.first, ex.last)
            link, link_text = _link(workloads, ex.file)
            # the concept prose is Markdown written in this module, the files are the
            # repository's own: markup as built, not data
            tabs.append({
                "framework": framework,
                "label": fw.label,
                "file": Markup(ex.file),
                "symbol": Markup(ex.symbol),
                "start": start,
                "end": end,
                "include": Markup(f'--8<-- "{ex.file}:{start}:{end}"'),
                "text": Markup(ex.text),
                "link": link,
                "link_text": link_text,
            })
            if ex.file not in sources:
                sources.append(ex.file)
        concepts.append({"slug": concept.slug, "title": concept.title,
                         "explanation": Markup(concept.explanation), "tabs": tabs})
    return {"concepts": concepts, "sources": sorted(sources)}
