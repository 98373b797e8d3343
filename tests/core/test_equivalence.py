"""Unit tier: the numerical rules of "the same work" (pipeline/core/equivalence.py) on
small arrays. No framework imported."""

from __future__ import annotations

import numpy as np

from pipeline.core import equivalence


def test_defaults_apply_under_what_a_workload_declares():
    tol = equivalence.tolerance({"tolerance": {"loss_rtol": 2e-5}})
    assert tol["loss_rtol"] == 2e-5 and tol["weights_rtol"] == equivalence.DEFAULT_TOLERANCE["weights_rtol"]


def test_zero_constant_and_repeated_initial_weights_are_named():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(3, 4)).astype(np.float32)
    weights = {"w": w, "b": np.zeros(4, np.float32), "scale": np.ones(4, np.float32), "w_again": w.copy(),
               "ok": rng.normal(size=4).astype(np.float32)}
    found = equivalence.init_findings(weights, {}, "x/workload.py")
    assert [f.split(": ")[1] for f in found] == ["make_problem().init_weights['b']",
                                                  "make_problem().init_weights['scale']",
                                                  "make_problem().init_weights['w_again']"]
    assert "every value is zero" in found[0] and "every value is 1" in found[1]
    assert "equals init_weights['w']" in found[2]
    # a declared exception (a glob) silences exactly what it names
    assert equivalence.init_findings(weights, {"b": "r", "sc*": "r", "w_again": "r"}, "x") == []
    assert equivalence.unused_exceptions(weights, {"bias*": "r"}, "x/workload.yaml") == [
        "x/workload.yaml: field init_exceptions.bias*: matches no parameter of init_weights"]


def test_a_parameter_never_trained_is_named_first():
    w0 = {"a": np.zeros(3) + [1, 2, 3], "b": np.array([0.5, -0.5])}
    ref = {"a": w0["a"] + 0.1, "b": w0["b"] + [0.2, -0.1]}
    close = {"a": ref["a"] + 1e-6, "b": ref["b"] - 1e-6}
    assert equivalence.weight_findings(w0, ref, close, 1e-3, "cell") == []
    unused = {"a": ref["a"] + 0.05, "b": w0["b"].copy()}
    found = equivalence.weight_findings(w0, ref, unused, 1e-3, "cell")
    assert found[0].startswith("cell: parameter 'b' never moved from its initial value")
    assert found[1].startswith("cell: parameter 'a' trained differently: off by 0.5 of its update")
    assert equivalence.weight_findings(w0, ref, {"a": ref["a"]}, 1e-3, "cell") == [
        "cell: parameter 'b' is missing from weights()"]


def test_a_looser_tolerance_without_reason_is_named():
    found = equivalence.looser_without_reason({"tolerance": {"logits_atol": 1e-4, "loss_rtol": 1e-5}}, "y.yaml")
    assert found == ["y.yaml: field tolerance.logits_atol: 0.0001 is looser than the default 2e-06; say why in "
                     "tolerance.reason (it is shown on the workload page)"]
    assert equivalence.looser_without_reason({"tolerance": {"logits_atol": 1e-4, "reason": "ten words"}}, "y") == []
