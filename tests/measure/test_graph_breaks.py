"""Unit tier: what compiling left out, from the measured process to the page.

A ``torch.compile`` that breaks its graph, or skips a function whole (an ``nn.GRU``),
runs those parts eagerly: the protocols record the count and Dynamo's reasons, through
the same backend and protocol code as a measured cell. torch and TensorFlow are
imported here, as in test_backends: Dynamo's ``eager`` backend traces without
compiling kernels, so a fixture compiles in well under a second (the breaks counted
are Dynamo's, whichever backend it hands the graphs to).
"""

from __future__ import annotations

import copy
import types

import pandas as pd
import pytest
from helpers import make_result

from pipeline.contract import Case, Problem
from pipeline.core import results
from pipeline.core.metrics import combine
from pipeline.measure.protocols import Session, operations, short_reason, training
from pipeline.publish import pages
from pipeline.publish.compare import break_even, compiled_note
from pipeline.publish.tables import case_rows, cell_row

PLAN = {"warmup_steps": 1, "samples": 2, "steps_per_sample": 1, "inference_batch": 4}


def fresh_dynamo(torch):
    """A measured cell is a fresh process: no Dynamo counters, no compiled code yet."""
    from torch._dynamo.utils import counters

    torch._dynamo.reset()
    counters.clear()


def torch_session(torch):
    from pipeline.measure.backends import torch_backend

    return Session(backend=torch_backend, dev=torch.device("cpu"), device_kind="cpu", native=("fp32",),
                   plan=dict(PLAN))


class TorchOps:
    """An operations bench: ``broken`` breaks its graph on purpose, ``whole`` does not,
    ``plain`` is not compiled at all."""

    def __init__(self, torch, compiled: bool):
        self.torch, self.compiled = torch, compiled
        self.x = torch.arange(6.0).reshape(2, 3)

    def operation(self, name):
        torch = self.torch

        def broken(x):
            y = x * 2
            torch._dynamo.graph_break()
            return y + 1

        def whole(x):
            return x * 2 + 1

        fn = {"broken": broken, "whole": whole, "plain": whole}[name]
        if self.compiled:
            fn = torch.compile(fn, backend="eager")
        return lambda: fn(self.x)


def ops_problem(*names) -> Problem:
    import numpy as np

    return Problem(cases={n: Case(work=6.0, unit="FLOP") for n in names},
                   reference=lambda name: np.arange(6.0).reshape(2, 3) * 2 + 1)


def test_an_eager_cell_records_no_graph_break_count():
    torch = pytest.importorskip("torch")
    fresh_dynamo(torch)
    session = torch_session(torch)
    metrics, status = operations.run_case(session, ops_problem("plain"), TorchOps(torch, compiled=False), "plain",
                                          Case(work=6.0, unit="FLOP"), 1e-6)
    assert status["status"] == "ok"
    # nothing compiled, so nothing to report: absent, not zero
    assert "plain/graph_breaks" not in metrics and "plain/retracings" not in metrics
    assert session.graph_break_reasons == {}


def test_torch_compile_graph_breaks_are_counted_with_their_reason():
    torch = pytest.importorskip("torch")
    fresh_dynamo(torch)
    session = torch_session(torch)
    problem = ops_problem("broken", "whole")
    tolerance = {"output_rtol": 1e-6}
    workload = types.SimpleNamespace(spec={"tolerance": tolerance}, tolerance=tolerance)
    out = operations.measure(session, workload, problem,
                             types.SimpleNamespace(build=lambda p, mode, dev: TorchOps(torch, compiled=True)),
                             "compile")
    assert out["cases"]["broken"]["status"] == "ok" and out["cases"]["whole"]["status"] == "ok"
    metrics, reasons = out["metrics"], out["graph_break_reasons"]
    assert metrics["broken/graph_breaks"]["value"] >= 1
    assert metrics["broken/graph_breaks"]["unit"] == "count"
    assert any("graph_break()" in why for why in reasons["broken/graph_breaks"]), reasons
    assert sum(reasons["broken/graph_breaks"].values()) == metrics["broken/graph_breaks"]["value"]
    # each case counts its own: the first case's break is not the second's
    assert metrics["whole/graph_breaks"]["value"] == 0
    assert "whole/graph_breaks" not in reasons
    assert "broken/retracings" not in metrics  # torch has no retracing measure


class GRUModel:
    """A training model whose compiled loss holds an ``nn.GRU``: Dynamo skips that
    function whole, so the "compiled" step runs eagerly."""

    def __init__(self, torch):
        self.torch = torch
        self.net = torch.nn.ModuleDict({"gru": torch.nn.GRU(3, 4, batch_first=True),
                                        "out": torch.nn.Linear(4, 2)})
        self.opt = torch.optim.SGD(self.net.parameters(), lr=0.01)

        def loss_of(x, y):
            hidden, _ = self.net["gru"](x)
            return torch.nn.functional.cross_entropy(self.net["out"](hidden[:, -1]), y)

        self.loss_of = torch.compile(loss_of, backend="eager")

    def train_step(self, x, y):
        self.opt.zero_grad()
        loss = self.loss_of(x, y)
        loss.backward()
        self.opt.step()
        return loss.detach()


def test_a_gru_left_uncompiled_is_recorded_through_the_training_protocol():
    torch = pytest.importorskip("torch")
    import numpy as np

    fresh_dynamo(torch)
    session = torch_session(torch)
    rng = np.random.default_rng(0)
    batches = [(rng.standard_normal((4, 5, 3)).astype(np.float32), np.array([0, 1, 0, 1], np.int32))]
    problem = types.SimpleNamespace(hyper={}, train_batches=batches, units_per_step=4, unit="samples",
                                    flops_per_train_step=1e3)
    impl = types.SimpleNamespace(build=lambda p, mode, dev: GRUModel(torch))
    metrics, _, failure = training.train_phase(session, problem, impl, "compile", "fp32")
    assert failure is None
    assert metrics["graph_breaks"]["value"] >= 1
    assert any("GRU" in why for why in session.graph_break_reasons["graph_breaks"]), session.graph_break_reasons


def test_tf_function_retracings_are_counted_and_eager_has_none():
    tf = pytest.importorskip("tensorflow")
    from pipeline.measure.backends import tensorflow_backend

    session = Session(backend=tensorflow_backend, dev="/CPU:0", device_kind="cpu", native=("fp32",),
                      plan=dict(PLAN))
    traced = types.SimpleNamespace(step=tf.function(lambda x: x * 2))
    before = session.fallbacks(traced)
    traced.step(tf.zeros([2]))
    traced.step(tf.zeros([3]))  # a new shape: traced again
    metrics: dict = {}
    session.record_fallbacks(traced, before, metrics, "graph_breaks", "retracings")
    assert metrics["retracings"]["value"] == 1
    assert "graph_breaks" not in metrics  # a tf.function never breaks to eager
    # the next case's first call of the same function traces once for its shape: no retrace
    before = session.fallbacks(traced)
    traced.step(tf.zeros([4]))
    metrics = {}
    session.record_fallbacks(traced, before, metrics, "graph_breaks", "retracings")
    assert metrics["retracings"]["value"] == 0
    eager = types.SimpleNamespace(step=lambda x: x * 2)
    metrics = {}
    session.record_fallbacks(eager, session.fallbacks(eager), metrics, "graph_breaks", "retracings")
    assert metrics == {}


def test_reasons_keep_dynamos_first_line_only():
    text = "Call to `torch._dynamo.graph_break()`\n  Explanation: User-inserted graph break.\n  Hint: remove it"
    assert short_reason(text) == "Call to `torch._dynamo.graph_break()`"
    assert len(short_reason("x" * 1000)) == 200


# ---- results: the reasons are untrusted text, validated -------------------------------------

def compiled_result(breaks: int | None, reasons: dict | None, mode="compile") -> dict:
    result = make_result(framework="torch", mode=mode)
    result["metrics"]["train_step_time"] = {"unit": "s", "value": 0.01, "per_process": [0.01]}
    result["metrics"]["compilations_first_step"] = {"unit": "count", "value": 2, "per_process": [2]}
    result["metrics"]["recompilations_steady_state"] = {"unit": "count", "value": 0, "per_process": [0]}
    if breaks is not None:
        result["metrics"]["graph_breaks"] = {"unit": "count", "value": breaks, "per_process": [breaks]}
    if reasons is not None:
        result["graph_break_reasons"] = reasons
    return result


def test_a_result_with_graph_break_reasons_is_valid_and_bad_ones_are_refused(tmp_path):
    good = compiled_result(3, {"graph_breaks": {"Attempted to wrap RNN, GRU, or LSTM": 3}})
    results.validate(good, "good.json")
    for bad, field in [
        ({"graph_breaks": {"x" * 201: 1}}, "graph_break_reasons"),  # a reason too long
        ({"graph_breaks": {"why": 0}}, "graph_break_reasons"),  # a count below 1
        ({"train_throughput": {"why": 1}}, "graph_break_reasons"),  # not a graph-break metric
        ({"graph_breaks": {f"why {i}": 1 for i in range(11)}}, "graph_break_reasons"),  # too many
    ]:
        with pytest.raises(results.ResultError, match=field):
            results.validate(compiled_result(3, bad), "bad.json")
    orphan = compiled_result(None, {"graph_breaks": {"why": 1}})
    path = tmp_path / "results" / orphan["machine_id"] / orphan["workload"] / "torch-compile@smoke.json"
    results.write_atomic(path, orphan)
    with pytest.raises(results.ResultError, match="graph_break_reasons.graph_breaks"):
        results.load(path)


def test_combining_processes_keeps_the_reasons_and_their_absence():
    first = compiled_result(2, {"graph_breaks": {"why": 2}})
    second = copy.deepcopy(first)
    second["processes"][0]["index"] = 1
    merged = combine([first, second])
    assert merged["graph_break_reasons"] == {"graph_breaks": {"why": 2}}
    old = [compiled_result(None, None), copy.deepcopy(compiled_result(None, None))]
    old[1]["processes"][0]["index"] = 1
    assert "graph_break_reasons" not in combine(old)


# ---- publishing: the tables carry the words, the templates render them ----------------------

def break_even_rows(*found: dict) -> dict:
    cells = pd.DataFrame([{**cell_row(r), "complete": True} for r in found])
    return {row["cell"]: row for row in break_even(cells)}


def render_compile_cost(rows: list[dict]) -> str:
    section = {"rows": [], "comparisons": [], "break_even": rows, "ceiling": {}, "bf16": False,
               "checkpoint": False, "cases": [], "machine_id": "m", "charts": []}
    return pages._env().get_template("_training.md.j2").render(s=section, spec={})


def test_a_row_with_graph_breaks_says_partly_eager_and_an_old_result_says_not_recorded():
    broken = compiled_result(3, {"graph_breaks": {"Attempted to wrap RNN, GRU, or LSTM": 3}})
    whole = compiled_result(0, {})
    whole["framework"], whole["mode"] = "keras", "torch"  # another compiled cell of the same table
    old = compiled_result(None, None)
    old["framework"], old["mode"] = "tensorflow", "function"
    eager_like = compiled_result(None, {})
    eager_like["framework"], eager_like["mode"] = "jax", "jit"
    rows = break_even_rows(broken, whole, old, eager_like)
    assert rows["PyTorch torch.compile"]["compiled_note"] == (
        "partly eager: 3 graph breaks (3× Attempted to wrap RNN, GRU, or LSTM)")
    assert rows["Keras 3 on PyTorch"]["compiled_note"] == "compiled whole: no graph breaks"
    assert rows["TensorFlow tf.function"]["compiled_note"] == "not recorded"
    assert rows["JAX/Flax jax.jit"]["compiled_note"] == "not applicable"
    page = render_compile_cost(list(rows.values()))
    line = next(line for line in page.splitlines() if line.startswith("| PyTorch torch.compile"))
    assert "partly eager: 3 graph breaks (3× Attempted to wrap RNN, GRU, or LSTM)" in line
    old_line = next(line for line in page.splitlines() if line.startswith("| TensorFlow tf.function"))
    assert "not recorded" in old_line
    # a table written before the column existed renders the same words, never a zero
    legacy = {k: v for k, v in rows["TensorFlow tf.function"].items() if k != "compiled_note"}
    assert "not recorded" in render_compile_cost([legacy])


def test_a_reason_cannot_inject_markup_into_the_page():
    hostile = compiled_result(1, {"graph_breaks": {"<script>x</script> | [a](javascript:1)": 1}})
    page = render_compile_cost(list(break_even_rows(hostile).values()))
    line = next(line for line in page.splitlines() if line.startswith("| PyTorch"))
    assert "<script>" not in line and "&lt;script>" in line
    assert "\\|" in line and "\\[a\\]" in line


def test_an_operations_case_row_carries_its_note():
    result = make_result(framework="torch", mode="compile")
    result["timing"] = {"cases": {"mm": {"work": 1.0, "unit": "FLOP"}}}
    result["cases"] = {"mm": {"status": "ok", "reason": None}}
    result["metrics"] = {"mm/graph_breaks": {"unit": "count", "value": 2, "per_process": [2]}}
    result["graph_break_reasons"] = {"mm/graph_breaks": {"Call to `torch._dynamo.graph_break()`": 2}}
    [row] = case_rows(result)
    assert row["compiled_note"] == "partly eager: 2 graph breaks (2× Call to `torch._dynamo.graph_break()`)"
    del result["graph_break_reasons"], result["metrics"]["mm/graph_breaks"]
    assert case_rows(result)[0]["compiled_note"] == "not recorded"
    # an eager cell compiles nothing: nothing to report, whenever it was measured
    result["mode"] = "eager"
    assert case_rows(result)[0]["compiled_note"] == "not applicable"
    # the note is its own column on the page, not an operation's extra fact
    assert {"compiled_note", "graph_breaks", "graph_break_reasons"} <= pages.CASE_COLUMNS


@pytest.mark.parametrize("recorded, breaks, retracings, shown", [
    (True, 1, None, "partly eager: 1 graph break"),
    (True, None, 2, "retraced 2 times beyond each function's first trace"),
    (True, None, 0, "compiled whole: no retracing"),
    (False, None, None, "not recorded"),
    (float("nan"), float("nan"), float("nan"), "not recorded"),
])
def test_compiled_note_words(recorded, breaks, retracings, shown):
    assert compiled_note(recorded, breaks, retracings, None) == shown
