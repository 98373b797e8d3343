"""Unit tier: aggregation (pipeline/publish/aggregate.py) of good and bad result files:
each bad file is refused naming the file and the field, never rewritten, and the rest
still aggregates; the time spent measuring."""

from __future__ import annotations

import json
import shutil

from helpers import (
    COMPARISON,
    CONFIG,
    DECLARED,
    ROOT,
    TEST_MACHINE,
    WORKLOADS,
    bare_result,
    committed_result,
    make_result,
    store,
    tampered,
)

from pipeline.core import results
from pipeline.publish.aggregate import aggregate, measuring_time


def test_aggregate_keeps_good_results_and_lists_refused(tmp_path):
    store(tmp_path, make_result("torch", "eager"))
    store(tmp_path, make_result("jax", "jit", machine="other-gpu-machine"))
    store(tmp_path, make_result("tensorflow", "xla", status="crashed"))
    corrupt = results.result_path(tmp_path, TEST_MACHINE, "mlp_digits", "tensorflow", "eager", "smoke")
    corrupt.write_text("not json")
    cells, refused = aggregate(tmp_path, tmp_path / "tables", ["smoke"], COMPARISON, DECLARED, WORKLOADS)
    assert len(cells) == 3
    # a failed cell is never complete, whatever it holds
    assert not cells.loc[cells["status"] != "ok", "complete"].any()
    assert "incomplete_reason" in cells
    assert set(cells["status"]) == {"ok", "crashed"}
    assert set(cells["machine_id"]) == {TEST_MACHINE, "other-gpu-machine"}
    assert len(refused) == 1 and str(corrupt) in refused[0]
    assert json.loads((tmp_path / "tables" / "refused.json").read_text()) == refused
    assert corrupt.read_text() == "not json", "aggregation never rewrites a result file"


def test_one_bad_file_is_refused_and_the_rest_aggregates(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "site_data" / "results", data / "results")
    machine = committed_result().parent.parent.name
    bad = data / "results" / machine / "mlp_digits" / "jax-jit.json"
    nan_median = tampered(lambda r: r["metrics"]["train_throughput"]["summary"].update(median=float("nan")))
    bad.write_text(json.dumps(nan_median))
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
    mine = cells[cells["machine_id"] == machine]  # another machine's cells of the same name stay
    shown = set(zip(mine["workload"], mine["framework"] + "-" + mine["mode"], strict=True))
    assert ("mlp_digits", "jax-jit") not in shown and ("transformer_lm", "torch-eager") not in shown
    assert len(cells) == len(list((data / "results").glob("*/*/*.json"))) - 2
    assert (cells["utilisation"].dropna() <= 1).all()


def test_measuring_time_spans_the_processes_and_skips_unreadable_times():
    ps = [{"started_at": "2026-12-02T01:00:00+00:00", "ended_at": "2026-12-02T01:01:00+00:00", "duration_s": 60},
          {"started_at": "2026-12-02T01:30:00+00:00", "ended_at": "2026-12-02T01:30:30+00:00", "duration_s": 30},
          {"started_at": "yesterday", "ended_at": "2026-12-02T09:00:00+00:00", "duration_s": 999}]
    t = measuring_time([bare_result("jax", "jit", processes=ps)])["default"]
    assert (t["processes"], t["in_processes_s"], t["span_s"]) == (2, 90.0, 1830.0)
