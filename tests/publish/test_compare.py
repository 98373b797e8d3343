"""Unit tier: comparisons and break-even as the pages state them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.publish.compare import break_even, comparisons, sentence


def cell(framework, mode, first, step, label, complete=True, status="ok"):
    return {"framework": framework, "mode": mode, "cell": label, "status": status, "complete": complete,
            "order": 0, "time_to_first_step": first, "train_step_time": step, "compilations_first_step": 1,
            "recompilations_steady_state": 0, "train_throughput.median": 1 / step}


def test_break_even_counts_compile_time():
    cells = pd.DataFrame([
        cell("torch", "eager", 0.01, 0.010, "PyTorch eager"),
        cell("torch", "compile", 10.01, 0.005, "PyTorch torch.compile"),
        cell("tensorflow", "eager", 0.1, 0.010, "TF eager"),
        cell("tensorflow", "xla", 0.5, 0.020, "TF XLA"),
        cell("jax", "jit", 0.5, 0.001, "JAX jit"),
    ])
    rows = {r["cell"]: r for r in break_even(cells)}
    # 10 s extra compile time recovered at 5 ms per step: after 2,000 more steps
    assert rows["PyTorch torch.compile"]["break_even_steps"] == 2001
    assert rows["TF XLA"]["break_even_steps"] is None and rows["TF XLA"]["note"].startswith("never")
    assert rows["JAX jit"]["eager_cell"] is None


def test_comparisons_skip_incomplete_cells_and_word_by_significance():
    rng = np.random.default_rng(0)
    cells = pd.DataFrame([
        cell("torch", "eager", 0.01, 0.010, "PyTorch eager"),
        cell("jax", "jit", 0.5, 0.005, "JAX jit"),
        cell("tensorflow", "eager", 0.1, 0.010, "TF eager", complete=False),
    ])
    samples = pd.DataFrame(
        [{"framework": fw, "mode": mode, "metric": "train_throughput", "value": v, "process": i // 10}
         for fw, mode, level in (("torch", "eager", 100), ("jax", "jit", 200), ("tensorflow", "eager", 100))
         for i, v in enumerate(rng.normal(level, 3, 30))]
    )
    out = comparisons(cells, samples, threshold=1.1, alpha=0.05)
    assert len(out) == 1, out
    assert out[0]["sentence"].startswith("JAX jit has 2.0")
    assert "t test on the logs of the process medians: p = " in out[0]["sentence"]
    assert "TF eager" not in out[0]["sentence"]
    # one process a side: no test between processes, so no difference is claimed, and the sentence says why
    alone = comparisons(cells, samples[samples["process"] == 0], threshold=1.1, alpha=0.05)
    assert alone[0]["verdict"] == "no measurable difference"
    assert alone[0]["sentence"].endswith("one process a side: no test between processes)")


def test_sentence_states_no_difference_plainly():
    text = sentence("A", "B", {"verdict": "no measurable difference", "ratio": 1.02, "ci_low": 0.97,
                               "ci_high": 1.08, "p_value": 0.4}, "training throughput")
    assert text.startswith("A vs B: no measurable difference in training throughput")
