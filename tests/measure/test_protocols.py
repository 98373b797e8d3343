"""Unit tier: the two timing protocols (pipeline/measure/protocols/), run on a NumPy
stand-in for a framework. The tables derived from their records (ceilings, utilisation)
are tested in tests/publish/test_tables.py."""

from __future__ import annotations

import types

import numpy as np
import pytest

from pipeline.contract import Case, Problem
from pipeline.measure.protocols import Session, operations, training

BACKEND = types.SimpleNamespace(
    put=lambda a, dev: np.asarray(a), sync=lambda value, model, dev: None, to_numpy=np.asarray,
    compile_count=lambda model: getattr(model, "compiles", 0), reset_peak_memory=lambda dev: None,
    device_peak_bytes=lambda dev: None, graph_breaks=lambda model: None, trace_counts=lambda model: None,
)
WORKLOAD = types.SimpleNamespace(spec={"tolerance": {"output_rtol": 1e-6}, "precisions": ["fp32", "bf16"]},
                                 tolerance={"output_rtol": 1e-6, "equivalence_steps": 5})


def session(native=("fp32",)) -> Session:
    plan = {"warmup_steps": 1, "samples": 3, "steps_per_sample": 2, "inference_batch": 4}
    return Session(backend=BACKEND, dev="cpu", device_kind="cpu", native=native, plan=plan)


class Bench:
    def __init__(self, problem, mode, dev):
        self.compiles = 0

    def operation(self, case):
        if case == "nope":
            raise NotImplementedError("this framework has no such thing")
        if case == "boom":
            raise RuntimeError("kernel exploded")
        if case == "wrong":
            return lambda: np.ones(3)
        self.compiles += 1  # a "compilation" while preparing: not in the first call
        return (lambda: np.arange(3.0)), {"export_size": ("bytes", 123.0)}


def ops_problem() -> Problem:
    cases = {name: Case(work=6.0, unit="FLOP") for name in ("good", "nope", "boom", "wrong")}
    cases["half"] = Case(work=6.0, unit="FLOP", precision="bf16")
    return Problem(cases=cases, reference=lambda name: np.arange(3.0))


def test_operations_records_each_case_and_isolates_failures():
    impl = types.SimpleNamespace(build=Bench)
    out = operations.measure(session(), WORKLOAD, ops_problem(), impl, "eager")
    assert out["status"] == "ok"
    statuses = {name: c["status"] for name, c in out["cases"].items()}
    assert statuses == {"good": "ok", "nope": "unsupported", "boom": "crashed", "wrong": "incorrect",
                        "half": "unsupported"}
    assert "no native bf16" in out["cases"]["half"]["reason"]
    assert "kernel exploded" in out["cases"]["boom"]["reason"]
    metrics = out["metrics"]
    assert len(metrics["good/time"]["samples"]) == 3
    assert metrics["good/throughput"]["unit"] == "FLOP/s"
    assert metrics["good/error"]["value"] == 0.0
    assert metrics["good/export_size"]["value"] == 123.0
    assert metrics["good/compilations"]["value"] == 0
    assert out["timing"]["samples_taken"] == 3


def test_operations_cell_fails_when_no_case_runs():
    problem = Problem(cases={"nope": Case(work=1.0, unit="x")}, reference=None)
    out = operations.measure(session(), WORKLOAD, problem, types.SimpleNamespace(build=Bench), "eager")
    assert out["status"] == "unsupported"
    assert "no case ran" in out["reason"]


def test_relative_error_refuses_other_shapes():
    with pytest.raises(ValueError, match="shape"):
        operations.relative_error(np.zeros(2), np.zeros(3))


class Model:
    """Linear regression by gradient descent in NumPy: a framework-free Model."""

    def __init__(self, problem, mode, dev):
        self.w = problem.init_weights["w"].copy()
        self.scale = 1.0 if problem.hyper.get("precision", "fp32") == "fp32" else 1.001
        self.saved = None

    def train_step(self, x, y):
        grad = x.T @ (x @ self.w - y) / len(x)
        self.w -= 0.1 * grad
        return float(np.mean((x @ self.w - y) ** 2)) * self.scale

    def predict(self, x):
        return np.stack([x @ self.w, -(x @ self.w)], axis=-1)

    def weights(self):
        return {"w": self.w}

    def save(self, folder):
        np.save(f"{folder}/w.npy", self.w)

    def restore(self, folder):
        self.w = np.load(f"{folder}/w.npy")


def training_problem() -> Problem:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 3)).astype(np.float32)
    return Problem(train_batches=[(x, x @ np.ones(3))], eval_x=x, eval_y=np.zeros(8, int),
                   init_weights={"w": np.zeros(3)}, flops_per_train_step=100.0)


def test_training_measures_each_native_precision_and_checkpoints():
    impl = types.SimpleNamespace(build=Model)
    out = training.measure(session(("fp32", "bf16")), WORKLOAD, training_problem(), impl, "eager")
    metrics = out["metrics"]
    assert out["status"] == "ok" and out["cases"]["bf16"]["status"] == "ok"
    assert len(metrics["train_throughput"]["samples"]) == 3
    assert "train_throughput_bf16" in metrics and "time_to_first_step_bf16" in metrics
    assert metrics["checkpoint_max_difference"]["value"] == 0.0
    assert metrics["checkpoint_size"]["value"] > 0
    assert out["timing"]["train_steps"] == 1 + 1 + 3 * 2


def test_training_skips_precisions_the_device_lacks():
    impl = types.SimpleNamespace(build=Model)
    out = training.measure(session(("fp32",)), WORKLOAD, training_problem(), impl, "eager")
    assert out["cases"]["bf16"]["status"] == "unsupported"
    assert "train_throughput_bf16" not in out["metrics"]
