"""Unit tier: the order of measured processes (pipeline/core/schedule.py)."""

from __future__ import annotations

from helpers import ROOT

from pipeline.core import schedule

CELLS = [("cnn_cifar", "torch", "eager"), ("cnn_cifar", "jax", "jit"), ("cnn_cifar", "tensorflow", "eager"),
         ("cnn_cifar", "tensorflow", "function"), ("cnn_cifar", "torch", "compile"), ("matmul", "torch", "eager")]
PREDS = [
    {"workload": "cnn_cifar", "a": ["jax"], "b": ["torch", "tensorflow"]},
    {"workload": "cnn_cifar", "a": ["torch:compile"], "b": ["torch:eager"]},
    {"workload": "cnn_cifar", "a": ["tensorflow:function"], "b": ["tensorflow:eager"]},
]


def test_cells_a_claim_compares_one_to_one_are_adjacent():
    seq = schedule.order(CELLS, PREDS)
    assert sorted(seq) == sorted(CELLS)
    pos = {cell: i for i, cell in enumerate(seq)}
    assert pos["cnn_cifar", "torch", "eager"] - pos["cnn_cifar", "torch", "compile"] == 1
    assert pos["cnn_cifar", "tensorflow", "eager"] - pos["cnn_cifar", "tensorflow", "function"] == 1
    # a workload's cells run together
    assert seq[-1] == ("matmul", "torch", "eager")


def test_rounds_run_in_order_and_alternate_direction():
    seq = schedule.order(CELLS, PREDS)
    prio = schedule.priorities(seq, 3)
    run = sorted(prio, key=lambda k: -prio[k])  # Snakemake starts the highest priority first
    assert [index for _, index in run] == [0] * 6 + [1] * 6 + [2] * 6
    assert [cell for cell, _ in run[:6]] == seq
    assert [cell for cell, _ in run[6:12]] == seq[::-1]
    assert [cell for cell, _ in run[12:]] == seq
    assert min(prio.values()) >= 1 and len(set(prio.values())) == len(prio)


def test_the_ledger_is_read_leniently(tmp_path):
    assert schedule.predicates(tmp_path / "missing.yaml") == []
    (tmp_path / "bad.yaml").write_text("claims: [1, {predicate: {workload: x, a: [torch]}}, : :")
    assert schedule.predicates(tmp_path / "bad.yaml") == []
    (tmp_path / "odd.yaml").write_text("claims: [1, {predicate: {workload: x, a: [torch]}}]")
    assert schedule.predicates(tmp_path / "odd.yaml") == []
    real = schedule.predicates(ROOT / "site_data" / "claims.yaml")
    assert real and all("b" in p and "ecosystem" not in p for p in real)
    assert schedule.order(CELLS, []) == CELLS
