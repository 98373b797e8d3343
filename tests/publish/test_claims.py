"""Unit tier: the claims ledger (pipeline/publish/claims.py): a bad predicate, case or id is
refused naming the claim and the field, the committed ledger meets the bar, and `check`
fails on a bad claim. The verdicts are tested in test_verdicts.py."""

from __future__ import annotations

import copy

import pytest
import yaml
from helpers import ROOT, copy_ledger, one_claim

from pipeline.cli import main
from pipeline.core.registry import discover
from pipeline.publish import claims

LEDGER = ROOT / "site_data" / "claims.yaml"


@pytest.fixture(scope="module")
def workloads():
    return discover()


@pytest.mark.parametrize("change, field", [
    ({"workload": "no_such_workload"}, "predicate.workload"),
    ({"metric": "speediness"}, "predicate.metric"),
    ({"a": ["torch:turbo"]}, "predicate.a"),
    ({"a": ["mxnet"]}, "predicate.a"),
    ({"b": ["keras:jax"], "workload": "transformer_lm"}, "predicate.b"),
])
def test_bad_predicates_are_refused_naming_the_claim(tmp_path, workloads, change, field):
    pred = {"workload": "cnn_cifar", "metric": "train_throughput", "a": ["torch"], "b": ["jax"], "at_least": 1.0}
    pred.update(change)
    path = tmp_path / "claims.yaml"
    path.write_text(yaml.safe_dump(one_claim(pred, cid="my-bad-claim")))
    with pytest.raises(claims.ClaimError, match=rf"claims.yaml: claim my-bad-claim: field {field}"):
        claims.load(path, workloads)


def test_bad_case_and_schema_errors_name_the_claim(tmp_path, workloads):
    path = tmp_path / "claims.yaml"
    pred = {"workload": "inference_latency", "metric": "time", "case": "cnn_b7", "a": ["torch"], "at_most": 1}
    path.write_text(yaml.safe_dump(one_claim(pred, cid="bad-case")))
    with pytest.raises(claims.ClaimError, match=r"claim bad-case: field predicate.case: .*no case 'cnn_b7'"):
        claims.load(path, workloads)
    doc = one_claim({"workload": "cnn_cifar", "metric": "train_throughput", "a": ["torch"]}, cid="no-bound")
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(claims.ClaimError, match=r"claim no-bound: field predicate"):
        claims.load(path, workloads)
    doc = one_claim({"workload": "cnn_cifar", "metric": "train_throughput", "a": ["torch"], "at_least": 1})
    doc["claims"].append(copy.deepcopy(doc["claims"][0]))
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(claims.ClaimError, match=r"claim c1: field id: used twice"):
        claims.load(path, workloads)


def test_the_ledger_meets_the_bar(workloads):
    doc = claims.load(LEDGER, workloads)
    measurable = [c for c in doc["claims"] if "predicate" in c]
    assert len(measurable) >= 25
    assert {c["source"] for c in doc["claims"]} == {s["id"] for s in doc["sources"]}
    assert any("unmeasurable" in c for c in doc["claims"])
    for c in doc["claims"]:
        if "unmeasurable" in c:
            assert c["unmeasurable"]["settled_by"]["url"].startswith("http")


def test_check_command_fails_on_a_bad_claim(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    doc = yaml.safe_load(LEDGER.read_text())
    doc["claims"][0]["predicate"] = {"workload": "cnn_cifar", "metric": "train_throughput",
                                     "a": ["torch:warp"], "at_least": 1}
    doc["claims"][0]["id"] = "broken-claim"
    copy_ledger(data, ("scenarios.yaml",))
    (data / "claims.yaml").write_text(yaml.safe_dump(doc))
    assert main(["check", "--set", f"data_dir={data}"]) == 2
    err = capsys.readouterr().err
    assert "broken-claim" in err and "predicate.a" in err and "warp" in err
