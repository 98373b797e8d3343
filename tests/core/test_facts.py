"""Unit tier: figures in reference texts come from the facts the workloads computed."""

from __future__ import annotations

import math

import pytest
from helpers import edit_yaml

from pipeline.core import facts
from pipeline.core.registry import WorkloadError, discover, load_workload


@pytest.mark.parametrize("text", ["reaches about 96% held-out accuracy", "chance is 10 %", "~90 steps",
                                  "trains approximately 35 steps", "loss around 2.7 nats"])
def test_typed_figures_are_refused(text):
    assert facts.problems(text)


@pytest.mark.parametrize("text", ["right {facts.majority_accuracy:.1%} of the time", "outputs up to n = 1024",
                                  "8x8 images in float64", "{facts.parameters:,} weights", "{facts.data}"])
def test_placeholders_and_design_constants_pass(text):
    assert facts.problems(text) == []


def test_a_brace_that_is_not_a_placeholder_is_refused():
    assert "not a placeholder" in facts.problems("{facts.x!r} or {cells.accuracy}")[0]


def test_fill_formats_and_says_when_a_fact_is_missing():
    text = "chance {facts.chance:.0%}, majority {facts.majority:.1%}, {facts.n:,} rows, {facts.gone}, {facts.nan}"
    filled = facts.fill(text, {"chance": 0.1, "majority": "0.11328", "n": 77706, "nan": math.nan})
    assert filled == ("chance 10%, majority 11.3%, 77,706 rows, (not measured yet), (not measured yet)")
    assert facts.names(text) == ["chance", "majority", "n", "gone", "nan"]


def test_registry_names_the_reference_field(workload_copy):
    edit_yaml(workload_copy, lambda s: s.update(reference="A baseline reaches about 96% accuracy."))
    with pytest.raises(WorkloadError, match=r"mlp_copy/workload.yaml: field reference: the figure 'about 96%'"):
        load_workload(workload_copy)


def test_every_committed_reference_names_only_facts_its_workload_computes():
    for name, w in discover().items():
        wanted = facts.names(w.spec.get("reference", ""))
        if wanted:
            problem = w.make_problem(0, **w.profile("smoke")["size"], **({"used": {}} if w.spec.get("uses") else {}))
            assert set(wanted) <= set(problem.facts), (name, wanted)
