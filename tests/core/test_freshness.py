"""Unit tier: when a stored result is current (pipeline/core/freshness.py): what of a
workload's declaration a measurement reads, and a cell with a contended process."""

from __future__ import annotations

from pathlib import Path

import yaml
from helpers import contended, declaring, make_result

from pipeline.core import freshness, results
from pipeline.core.metrics import combine
from pipeline.core.registry import WORKLOADS_DIR


def test_a_cell_with_a_contended_process_is_incomplete_and_measured_again(tmp_path):
    from pipeline.publish.tables import build_tables

    a = make_result(samples=(1.0, 2.0, 3.0))
    b = contended(make_result(samples=(1.0, 2.0, 3.0)), 1, "contended in all 3 attempts")
    cell = combine([a, b])
    cells = build_tables([cell], declaring({("mlp_digits", "smoke"): {"processes": 2, "samples": 3}}))
    assert cells["cells"].loc[0, "incomplete_reason"] == "1 of 2 processes (1 contended)"
    path = tmp_path / "torch-eager@smoke.json"
    results.write_atomic(path, cell)
    sources = [Path(name) for name in cell["provenance"]["source_sha256"]]
    state = freshness.cell_state(path, sources, "smoke", 2, 2)
    assert not state.current and state.reason == "stored result has 1 contended process(es)"


def test_a_description_edit_keeps_workload_yaml_s_digest_and_a_size_edit_changes_it():
    text = (WORKLOADS_DIR / "mlp_digits" / "workload.yaml").read_text()
    spec = yaml.safe_load(text)
    digest = freshness.declaration_digest(text.encode(), "default")

    def edited(change) -> str:
        copy = yaml.safe_load(text)
        change(copy)
        return freshness.declaration_digest(yaml.safe_dump(copy).encode(), "default")

    # what only pages and tests read
    assert edited(lambda s: s.update(description="Reworded, at length, for readers.")) == digest
    assert edited(lambda s: s.update(title="Another title", metrics=["train_throughput"])) == digest
    assert edited(lambda s: s["tolerance"].update(loss_rtol=0.5, reason="a stated reason")) == digest
    assert edited(lambda s: s["profiles"]["gpu"]["size"].update(hidden=3)) == digest  # another profile
    # what a measurement of the default profile reads
    assert edited(lambda s: s["profiles"]["default"]["timing"].update(samples=3)) != digest
    assert edited(lambda s: s["tolerance"].update(equivalence_steps=9)) != digest
    assert edited(lambda s: s.update(precisions=["fp32", "bf16"])) != digest
    assert spec["profiles"]["default"]  # the file itself parses as a workload
