"""pipeline/publish/ergonomics.py: lines and distinct framework APIs, the table of the real
files, and its page template. The Concept map (pipeline/publish/concepts.py) is tested in
test_concepts.py."""

from __future__ import annotations

import textwrap

import pytest
from helpers import WORKLOADS, page_environment, write_code

from pipeline.contract import IMPL_FILES
from pipeline.core.frameworks import FRAMEWORKS
from pipeline.publish import ergonomics, scale_out
from pipeline.publish.ergonomics import count_lines, framework_apis, measure_file


def apis(text: str, framework: str) -> list[str]:
    return framework_apis(textwrap.dedent(text), framework)


# ---------------------------------------------------------------- lines


def test_lines_skip_blank_lines_comments_and_docstrings(tmp_path):
    path = write_code(tmp_path, '''
        """Module docstring,
        over two lines."""

        # a comment

        import torch  # trailing comment: the line still counts


        def f(x):
            """Function docstring."""
            # comment inside
            return x + 1


        class A:
            """Class docstring
            spanning lines.
            """

            def g(self):
                \'\'\'Method docstring.\'\'\'
                return 2
    ''')
    # import torch, def f, return x + 1, class A, def g, return 2
    assert measure_file(path, "torch")["lines"] == 6


def test_lines_count_each_line_of_a_multiline_statement_and_non_docstring_strings():
    source = textwrap.dedent('''
        x = f(
            1,

            # comment inside the call
            2,
        )
        y = """a string that is
        not a docstring"""
        def h():
            z = 1
            "a bare string after the first statement is not a docstring"
    ''')
    # x = f( / 1, / 2, / ) / y = """ / not a docstring""" / def h / z = 1 / "a bare string..."
    assert count_lines(source) == 9


def test_lines_empty_and_docstring_only_files():
    assert count_lines("") == 0
    assert count_lines('"""Only a docstring."""\n\n# and a comment\n') == 0
    assert count_lines("pass\n") == 1


# ---------------------------------------------------------------- APIs


def test_import_forms_resolve_to_full_dotted_names():
    found = apis('''
        import torch
        import torch.nn as nn
        from torch import optim
        from torch.nn import functional as F
        import numpy as np

        def f(x):
            layer = nn.Linear(3, 4)
            opt = optim.Adam(layer.parameters())
            y = F.relu(torch.zeros(3)) + np.ones(3)
            z = torch.nn.functional.cross_entropy(y, y)
            opt.step()  # a method on an object: not counted
            return nn.Linear(1, 1), z
    ''', "torch")
    assert found == ["torch.nn.Linear", "torch.nn.functional.cross_entropy", "torch.nn.functional.relu",
                     "torch.optim.Adam", "torch.zeros"]


def test_jax_flax_and_tensorflow_aliases():
    assert apis('''
        import jax
        import jax.numpy as jnp
        import optax
        import orbax.checkpoint as ocp
        from flax import nnx

        rngs = nnx.Rngs(0)
        y = jnp.mean(jax.jit(f)(x))
        tx = optax.adam(1e-3)
        c = ocp.StandardCheckpointer()
    ''', "jax") == ["flax.nnx.Rngs", "jax.jit", "jax.numpy.mean", "optax.adam",
                    "orbax.checkpoint.StandardCheckpointer"]
    assert apis('''
        import tensorflow as tf
        layers = tf.keras.layers

        def step(x):
            with tf.GradientTape() as tape:
                y = layers.Dense(3)(x)
            return tape.gradient(y, x)
    ''', "tensorflow") == ["tensorflow.GradientTape", "tensorflow.keras.layers.Dense"]


def test_function_local_imports_stay_local():
    source = '''
        def a():
            import torch
            return torch.ones(2)

        def b():
            return torch.zeros(2)  # no torch in this scope: not resolvable

        def c():
            from torch import nn
            return nn.ReLU()
    '''
    assert apis(source, "torch") == ["torch.nn.ReLU", "torch.ones"]


def test_a_name_shadowed_by_a_local_variable_or_argument_is_not_counted():
    found = apis('''
        import torch
        from torch import nn

        def f():
            torch = make_something()
            return torch.zeros(3)

        def g(nn):
            return nn.Linear(1, 1)

        def h(items):
            return [torch.ones(1) for torch in items]

        def k(pairs):
            for nn, other in pairs:
                nn.ReLU()
            return torch.eye(2), (lambda torch: torch.sum(1))(0)

        def m():
            with open("x") as torch:
                return torch.read()

        def n():
            return nn.GELU()
    ''', "torch")
    assert found == ["torch.eye", "torch.nn.GELU"]


def test_class_body_names_are_not_visible_in_methods_and_annotations_do_not_count():
    found = apis('''
        import torch

        class M(torch.nn.Module):
            torch = None

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                y: torch.Tensor = torch.relu(x)
                return y
    ''', "torch")
    assert found == ["torch.nn.Module", "torch.relu"]


def test_roots_per_framework():
    source = '''
        import keras
        import tensorflow as tf
        import jax
        import torch
        import optax
        import numpy as np

        a = keras.layers.Dense(1)
        b = tf.reduce_sum(1)
        c = jax.jit(f)
        d = torch.ones(1)
        e = optax.sgd(1.0)
        g = np.zeros(1)
    '''
    assert apis(source, "torch") == ["torch.ones"]
    assert apis(source, "tensorflow") == ["keras.layers.Dense", "tensorflow.reduce_sum"]
    assert apis(source, "jax") == ["jax.jit", "optax.sgd"]
    # a Keras file's backend imports count, labelled by their root
    assert apis(source, "keras") == ["jax.jit", "keras.layers.Dense", "optax.sgd", "tensorflow.reduce_sum",
                                     "torch.ones"]
    with pytest.raises(KeyError, match="unknown framework"):
        apis(source, "mxnet")


def test_measure_file_counts(tmp_path):
    path = write_code(tmp_path, '''
        from keras import layers, ops
        import keras

        def make(n):
            x = ops.ones((n,))
            return keras.Sequential([layers.Dense(n), layers.Dense(n)])(x)
    ''')
    assert measure_file(path, "keras") == {
        "lines": 5,
        "apis": ["keras.Sequential", "keras.layers.Dense", "keras.ops.ones"],
        "api_count": 3,
    }


# ---------------------------------------------------------------- the real repository


@pytest.fixture(scope="module")
def frame():
    return ergonomics.table(WORKLOADS)


def test_table_covers_every_implemented_workload_and_framework(frame):
    """Except data-parallel workloads: their files are counted against their single-device
    version (tests/publish/test_scale_out.py)."""
    workloads = WORKLOADS
    expected = {(w, f) for w, workload in workloads.items() for f in workload.frameworks
                if not workload.single_device}
    assert any(w.single_device for w in workloads.values())
    assert set(zip(frame["workload"], frame["framework"], strict=True)) == expected
    assert len(frame) == len(expected)
    assert list(frame.columns) == ergonomics.COLUMNS
    assert (frame["lines"] > 0).all() and (frame["api_count"] > 0).all() and (frame["neutral_lines"] > 0).all()
    assert (frame["api_count"] == frame["apis"].str.split().str.len()).all()
    for row in frame.itertuples():
        assert row.file == f"workloads/{row.workload}/{IMPL_FILES[row.framework]}"
        assert row.framework_label == FRAMEWORKS[row.framework].label
        roots = {name.split(".")[0] for name in row.apis.split()}
        assert roots <= ergonomics.ROOTS[row.framework], (row.file, roots)
    # concrete names the mlp_digits files use
    mlp = frame[frame["workload"] == "mlp_digits"].set_index("framework")["apis"].str.split()
    assert {"torch.nn.Linear", "torch.optim.Adam", "torch.compile"} <= set(mlp["torch"])
    assert {"tensorflow.GradientTape", "tensorflow.function", "tensorflow.keras.layers.Dense"} <= set(mlp["tensorflow"])
    assert {"flax.nnx.Linear", "jax.jit", "jax.numpy.asarray", "optax.adam"} <= set(mlp["jax"])
    assert {"keras.Sequential", "keras.layers.Dense", "keras.optimizers.Adam"} <= set(mlp["keras"])


def test_write_csv(tmp_path, monkeypatch, frame):
    monkeypatch.setattr(ergonomics, "table", lambda workloads=None: frame)
    out = tmp_path / "sub" / "ergonomics.csv"
    written = ergonomics.write(out, WORKLOADS)
    text = out.read_text().splitlines()
    assert text[0] == ",".join(ergonomics.COLUMNS)
    assert len(text) == len(frame) + 1 and written is frame


def test_ergonomics_page_renders(frame):
    ctx = ergonomics.page_context(frame, WORKLOADS)
    changes = scale_out.page_context(scale_out.table(WORKLOADS), WORKLOADS)
    text = page_environment().get_template("ergonomics.md.j2").render(**ctx, scale_out=changes)
    assert text.split("\n", 1)[1].startswith("# Ergonomics\n")  # after the generated-page banner
    assert "methods called on objects" in text and "not a verdict" in text
    assert "## MLP on handwritten digits" in text
    assert "(workloads/mlp_digits.md#the-code-that-ran)" in text
    assert "    <code>torch.compile</code>, <code>torch.from\\_numpy</code>," in text  # the note's body is indented
    assert text.count("??? note ") == len(frame)
    torch_row = next(r for r in ctx["table"] if r["workload"] == "mlp_digits" and r["framework"] == "torch")
    assert f"| PyTorch | {torch_row['lines']} | {torch_row['api_count']} |" in text
    torch_summary = next(s for s in ctx["summary"] if s["framework"] == "torch")
    assert torch_summary["median_lines"] == float(frame[frame["framework"] == "torch"]["lines"].median())
    assert f"| PyTorch | {torch_summary['workloads']} | {torch_summary['median_lines']:g} |" in text
    # from one device to many: one row and one diff per framework of the data-parallel workload
    jax = next(r for r in changes[0]["rows"] if r["framework"] == "jax")
    assert f"| JAX/Flax | {jax['single_lines']} | {jax['added']} | {jax['removed']} |" in text
    assert text.count('<details class="note scale-out">') == len(changes[0]["rows"])
