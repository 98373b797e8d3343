"""Unit tier: a result file is believed only when its values can be true. Each bad
value is refused naming the file and the field, and the rest still aggregates."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import COMPARISON, CONFIG, DECLARED, ROOT, WORKLOADS

from pipeline.core import results
from pipeline.publish.aggregate import aggregate

MINE = next((ROOT / "site_data" / "results").glob("*/mlp_digits/jax-jit.json"))


def tampered(change) -> dict:
    result = json.loads(MINE.read_text())
    change(result)
    return result


def thr(r):
    return r["metrics"]["train_throughput"]


@pytest.mark.parametrize("change, field, message", [
    (lambda r: thr(r)["summary"].update(median=float("nan")), "metrics.train_throughput.summary.median",
     "does not match"),
    (lambda r: thr(r)["summary"].update(median="fast"), "metrics.train_throughput.summary.median", "does not match"),
    (lambda r: thr(r)["summary"].pop("cv"), "metrics.train_throughput.summary.cv", "does not match"),
    (lambda r: thr(r).update(value=float("inf")), "metrics.train_throughput.value", "not a finite number"),
    (lambda r: thr(r)["samples"].__setitem__(0, -5.0), "metrics.train_throughput.samples.0", "outside (0, 1e+18]"),
    (lambda r: thr(r)["samples"].__setitem__(0, 1e308), "metrics.train_throughput.samples.0", "outside"),
    (lambda r: r["metrics"]["accuracy"].update(value=7.5, per_process=[7.5]), "metrics.accuracy.per_process.0",
     "outside [0, 1]"),
    (lambda r: thr(r)["samples"].__setitem__(3, thr(r)["samples"][3] * 3), "metrics.train_throughput.summary",
     "does not match"),
    (lambda r: thr(r).update(value=thr(r)["value"] * 2), "metrics.train_throughput.value",
     "is not the median of its samples"),
])
def test_an_impossible_value_is_refused_with_file_and_field(change, field, message):
    with pytest.raises(results.ResultError) as err:
        results.check_values(tampered(change), "some/result.json")
    text = str(err.value)
    assert text.startswith(f"some/result.json: field {field}") and message in text, text


def test_every_committed_result_passes():
    found, refused = results.load_all(ROOT / "site_data")
    assert refused == [] and len(found) >= 40


def test_one_bad_file_is_refused_and_the_rest_aggregates(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "site_data" / "results", data / "results")
    machine = MINE.parent.parent.name
    bad = data / "results" / machine / "mlp_digits" / "jax-jit.json"
    bad.write_text(json.dumps(tampered(lambda r: thr(r)["summary"].update(median=float("nan")))))
    # training FLOP/s above the machine's best matrix product: a utilisation over 100%
    over = data / "results" / machine / "transformer_lm" / "torch-eager.json"
    result = json.loads(over.read_text())
    result["metrics"]["achieved_flops"]["value"] *= 1000
    result["metrics"]["achieved_flops"]["per_process"] = [v * 1000 for v in
                                                          result["metrics"]["achieved_flops"]["per_process"]]
    result["metrics"]["achieved_flops"].pop("summary", None)
    over.write_text(json.dumps(result))
    cells, refused = aggregate(data, tmp_path / "tables", CONFIG["publish"], COMPARISON, DECLARED, WORKLOADS)
    assert len(refused) == 2
    assert any(str(bad) in line and "summary.median" in line for line in refused)
    assert any(str(over) in line and "metrics.achieved_flops" in line and "measured ceiling" in line
               for line in refused)
    shown = set(zip(cells["workload"], cells["framework"] + "-" + cells["mode"], strict=True))
    assert ("mlp_digits", "jax-jit") not in shown and ("transformer_lm", "torch-eager") not in shown
    assert len(cells) == len(list((data / "results").glob("*/*/*.json"))) - 2
    assert (cells["utilisation"].dropna() <= 1).all()
