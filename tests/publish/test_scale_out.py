"""Unit tier: the lines that change from a single-device implementation to its
data-parallel one (pipeline/publish/scale_out.py), the claims that read them, and
the device emulation a data-parallel workload asks of the worker. No framework imported."""

from __future__ import annotations

import os

import pandas as pd
import pytest
from helpers import WORKLOADS

from pipeline.core.frameworks import FRAMEWORKS
from pipeline.measure import knobs
from pipeline.publish import claims, scale_out
from pipeline.publish.verdicts import judge

SINGLE = '''"""One device."""
import jax


def step(state, x):
    """The update."""
    return state + x  # as written for one device


def run(state, xs):
    for x in xs:
        state = step(state, x)
    return state
'''

MANY = '''"""Many devices: a different docstring does not count."""
import jax
from jax.sharding import Mesh


def step(state, x):
    """Another docstring."""
    return state + x  # a different comment does not count either


def run(state, xs, mesh):
    for x in xs:
        x = jax.device_put(x, mesh)
        state = step(state, x)
    return state
'''


def test_only_code_lines_that_differ_are_counted():
    found = scale_out.compare(SINGLE, MANY, "single.py", "many.py")
    # added: the import, the new signature, the device_put; removed: the old signature
    assert (found["single_lines"], found["added"], found["removed"]) == (7, 3, 1)
    assert found["rewritten_share"] == pytest.approx(1 / 7)
    assert found["change_share"] == pytest.approx(4 / 7)
    added = [line for line in found["diff"].splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert added == ["+from jax.sharding import Mesh", "+def run(state, xs, mesh):",
                     "+        x = jax.device_put(x, mesh)"]


def test_identical_code_scales_out_unchanged():
    found = scale_out.compare(SINGLE, SINGLE, "a.py", "b.py")
    assert (found["added"], found["removed"], found["rewritten_share"], found["diff"]) == (0, 0, 0.0, "")


def test_moving_code_into_a_block_counts_as_changed():
    wrapped = SINGLE.replace(
        "    for x in xs:\n        state = step(state, x)\n",
        "    with jax.default_device(None):\n        for x in xs:\n            state = step(state, x)\n")
    found = scale_out.compare(SINGLE, wrapped, "a.py", "b.py")
    assert (found["added"], found["removed"]) == (3, 2)


def test_the_repository_counts_every_framework_of_the_data_parallel_workload():
    frame = scale_out.table(WORKLOADS)
    mine = frame[frame["workload"] == "data_parallel"]
    both = [f for f in FRAMEWORKS if WORKLOADS["data_parallel"].implements(f) and WORKLOADS["mlp_digits"].implements(f)]
    assert sorted(mine["framework"]) == sorted(both)
    for row in mine.to_dict("records"):
        lines = row["diff"].splitlines()
        assert row["added"] == sum(x.startswith("+") and not x.startswith("+++") for x in lines), row["framework"]
        assert row["removed"] == sum(x.startswith("-") and not x.startswith("---") for x in lines), row["framework"]
        assert row["single_file"] == f"workloads/mlp_digits/{row['framework']}_impl.py"


def test_a_diff_reaches_the_page_as_escaped_html():
    hostile = SINGLE.replace("return state + x", "return '<script>alert(1)</script>' & x")
    found = scale_out.compare(SINGLE, hostile, "a.py", "<b>.py")
    shown = str(scale_out._diff_html(found["diff"]))
    assert "<script>" not in shown and "<b>" not in shown
    assert "&lt;script&gt;" in shown and '<span class="diff-added">' in shown


def _counts(**shares) -> pd.DataFrame:
    rows = [{"workload": "data_parallel", "single_device": "mlp_digits", "framework": fw,
             "framework_label": FRAMEWORKS[fw].label, "single_file": "", "file": "", "single_lines": 50,
             "lines": 60, "added": 10, "removed": 2, "rewritten_share": share, "change_share": 2 * share,
             "diff": ""} for fw, share in shares.items()]
    return pd.DataFrame(rows, columns=scale_out.COLUMNS)


def _claim(**predicate) -> dict:
    return {"id": "c", "source": "s000", "claim": "x", "predicate": {"scale_out": "data_parallel",
                                                                      "measure": "rewritten_share", **predicate}}


@pytest.mark.parametrize("counts, verdict", [
    (_counts(jax=0.05, torch=0.3), claims.HOLDS),
    (_counts(jax=0.2, torch=0.3), claims.FAILS),
    (_counts(torch=0.3), claims.UNMEASURABLE),
])
def test_a_scale_out_claim_is_judged_from_the_counts_once_for_every_machine(counts, verdict):
    doc = {"claims": [_claim(a=["jax"], at_most=0.1)]}
    row = judge(doc, {"scale_out": counts}, {}).iloc[0]
    assert row["verdict"] == verdict and row["machine_id"] == claims.SOURCE_FILES
    assert row["evidence"] == "ergonomics.md#from-one-device-to-many"


def test_the_best_of_a_side_is_the_framework_that_changed_least():
    doc = {"claims": [_claim(measure="change_share", a=["jax"], b=["torch", "tensorflow"], at_most=1.0)]}
    row = judge(doc, {"scale_out": _counts(jax=0.1, torch=0.9, tensorflow=0.2)}, {}).iloc[0]
    assert row["b_cell"] == "TensorFlow" and row["ratio"] == pytest.approx(0.5) and row["verdict"] == claims.HOLDS


@pytest.mark.parametrize("predicate, message", [
    ({"scale_out": "nowhere"}, "scale_out: no workload named 'nowhere'"),
    ({"scale_out": "mlp_digits"}, "scale_out: mlp_digits names no single_device version"),
    ({"a": ["jax:jit"]}, "a: a count from the files is per framework, not per mode (jax:jit)"),
    ({"a": ["mxnet"]}, "a: unknown framework 'mxnet'"),
])
def test_a_scale_out_predicate_that_cannot_be_counted_is_named(predicate, message):
    pred = {"scale_out": "data_parallel", "measure": "rewritten_share", "a": ["jax"], "at_most": 0.1, **predicate}
    assert any(message in p for p in claims.check_predicate(pred, WORKLOADS)), claims.check_predicate(pred, WORKLOADS)


def test_emulated_devices_replace_an_earlier_count_and_keep_other_flags(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_fast_math=false --xla_force_host_platform_device_count=8")
    recorded = knobs.emulate_devices(2)
    assert os.environ["XLA_FLAGS"] == "--xla_cpu_fast_math=false --xla_force_host_platform_device_count=2"
    assert recorded["emulated_cpu_devices"] == "2"
    assert knobs.emulate_devices(1) == {}
