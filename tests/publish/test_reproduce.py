"""Unit tier: measuring a machine again keeps the earlier run, and the report
says per cell whether the second run landed inside the first one's interval."""

from __future__ import annotations

import json

import pytest
from helpers import COMPARISON, DECLARED, WORKLOADS, copy_ledger, make_result

from pipeline import cli
from pipeline.core import results
from pipeline.core.metrics import sampled
from pipeline.publish.reproduce import compare_runs, report

MACHINE = "test-machine"


def of_run(run: str, samples, framework="torch", mode="eager", **process) -> dict:
    result = make_result(framework=framework, mode=mode, machine=MACHINE, samples=samples)
    result["metrics"]["train_throughput"] = sampled("samples/s", list(samples))
    result["processes"][0].update({"run_id": run, **process})
    return result


def window(steal_share=0.0) -> dict:
    """What a quiet process's timed samples recorded, with its steal."""
    return {"window_s": 5, "cpus": 2, "outside_cores": 0.0, "outside_cpu_s": 0.0, "steal_share": steal_share}


def stored(data_dir, result):
    path = results.result_path(data_dir, MACHINE, result["workload"], result["framework"], result["mode"],
                               result["profile"])
    return results.store(path, result), path


def test_measuring_again_keeps_the_earlier_run_under_history(tmp_path):
    first = of_run("20261201T000000Z", [100.0, 101.0, 99.0, 100.5])
    kept, path = stored(tmp_path, first)
    assert kept is None
    again = of_run("20261201T000000Z", [100.0, 102.0, 99.0, 100.5])  # the same run writing its cell again
    assert stored(tmp_path, again)[0] is None
    later = of_run("20261202T000000Z", [150.0, 151.0, 149.0, 150.5])
    kept, _ = stored(tmp_path, later)
    assert kept == tmp_path / "history" / MACHINE / "20261201T000000Z" / "mlp_digits" / f"{path.stem}.json"
    assert json.loads(kept.read_text())["metrics"]["train_throughput"]["samples"][1] == 102.0
    assert results.run_of(json.loads(path.read_text())) == "20261202T000000Z"
    # results/ holds the latest run only; history is not read as current results
    assert [r["processes"][0]["run_id"] for r in results.load_all(tmp_path)[0]] == ["20261202T000000Z"]


def test_a_result_without_run_ids_is_kept_under_its_recording_date(tmp_path):
    old = make_result(machine=MACHINE)
    stored(tmp_path, old)
    kept, _ = stored(tmp_path, of_run("20261202T000000Z", [1.0, 2.0, 3.0]))
    assert kept.parent.parent.name == "unrecorded-2026-11-21"


def test_the_report_says_which_medians_landed_inside_and_why_others_did_not(tmp_path):
    stored(tmp_path, of_run("A", [100.0, 101.0, 99.0, 100.5, 100.2]))
    # run A's jax process lost a third of its CPU to the hypervisor: B's 1.5x is A's slowness
    stored(tmp_path, of_run("A", [200.0, 201.0, 199.0, 200.5, 200.2], framework="jax",
                            interference=window(steal_share=1 / 3)))
    stored(tmp_path, of_run("B", [100.3, 100.1, 99.8, 100.4, 100.6]))
    stored(tmp_path, of_run("B", [300.0, 301.0, 299.0, 300.5, 300.2], framework="jax",
                            interference=window()))
    frame, speeds, refused, claims = report(tmp_path, "A", "B", COMPARISON, DECLARED, WORKLOADS)
    assert refused == [] and claims.empty  # no ledger beside these results
    rows = {r.framework: r for r in frame.itertuples()}
    assert rows["torch"].b_in_a and rows["torch"].outcome == "reproduced"
    assert not rows["jax"].b_in_a and rows["jax"].ratio == pytest.approx(1.5, rel=1e-3)
    assert rows["jax"].outcome == "explained miss"
    assert rows["jax"].cause == "steal during the timed samples (33% in run A, 0% in run B)"


def three_processes(run: str, levels, framework="torch", started="2026-12-01T00:00:00+00:00") -> dict:
    """A result whose three processes ran at ``levels``, five samples each."""
    samples = [level * f for level in levels for f in (1.0, 1.002, 0.998, 1.001, 0.999)]
    result = make_result(framework=framework, machine=MACHINE, samples=samples, processes=3)
    result["metrics"]["train_throughput"] = sampled("samples/s", samples, [5, 5, 5])
    for p in result["processes"]:
        p.update({"run_id": run, "started_at": started})
    return result


def test_a_second_run_is_judged_by_where_another_run_should_land():
    """Processes that differ by 10% say a second run may land well away from the first
    run's median: outside the interval of that median, inside the repeat interval."""
    a = [three_processes("A", [100.0, 110.0, 120.0])]
    b = [three_processes("B", [118.0, 128.0, 138.0])]
    frame, _ = compare_runs(a, b)
    row = frame.iloc[0]
    assert row["b_in_a"] and not row["b_in_a_ci"] and row["outcome"] == "reproduced"
    far = [three_processes("B", [300.0, 310.0, 320.0])]
    assert not compare_runs(a, far)[0].iloc[0]["b_in_a"]


def test_the_site_compares_each_cell_with_its_own_measurement_before(tmp_path):
    """Run B measured both cells, run C only torch's: the site compares torch C with torch B
    and jax B with jax A, instead of finding no earlier run that holds both."""
    from pipeline.publish.reproduce import latest

    for run, day in (("A", "01"), ("B", "02")):
        for framework in ("torch", "jax"):
            stored(tmp_path, three_processes(run, [100.0, 105.0, 110.0], framework, f"2026-12-{day}T00:00:00+00:00"))
    stored(tmp_path, three_processes("C", [400.0, 405.0, 410.0], "torch", "2026-12-03T00:00:00+00:00"))
    frame, summaries, record, refused = latest(tmp_path, results.load_all(tmp_path)[0], COMPARISON, DECLARED, WORKLOADS)
    assert len(frame) == 2 and frame.set_index("framework").loc["torch", "ratio"] == pytest.approx(405 / 105, rel=0.01)
    [summary] = summaries
    assert summary["runs_a"] == ["A", "B"] and summary["runs_b"] == ["B", "C"] and summary["inside"] == 1
    assert summary["inside_ci"] <= summary["inside"] and refused == []
    # the record: torch's current figure agrees with none of its two earlier runs, jax's with its one
    by = record.set_index("framework")
    assert (by.loc["torch", "earlier_runs"], by.loc["torch", "agreeing"]) == (2, 0)
    assert (by.loc["jax", "earlier_runs"], by.loc["jax", "runs_agreeing"]) == (1, "A")
    assert summary["record"] == {"figures": 2, "earlier_runs_max": 2, "by_all": 1, "by_some": 0, "by_none": 1}


def test_a_miss_with_nothing_recorded_is_called_unexplained():
    a = [of_run("A", [100.0, 101.0, 99.0], interference={"window_s": 5, "outside_cores": 0.0})]
    b = [of_run("B", [200.0, 201.0, 199.0], interference={"window_s": 5, "outside_cores": 0.0})]
    frame, _ = compare_runs(a, b)
    assert list(frame["outcome"]) == ["unexplained miss"]


def test_the_command_names_a_run_that_has_no_result(tmp_path, capsys):
    stored(tmp_path, of_run("A", [100.0, 101.0, 99.0]))
    assert cli.main(["reproduce-report", "A", "nope", "--data-dir", str(tmp_path)]) == 2
    assert "run 'nope': no result" in capsys.readouterr().err
    out = tmp_path / "report.csv"
    assert cli.main(["reproduce-report", "A", "A", "--data-dir", str(tmp_path), "--out", str(out)]) == 0
    assert "1 of 1 medians of run B inside run A's repeat interval (100%;" in capsys.readouterr().out
    assert out.read_text().startswith("machine_id,workload,framework")


def test_claims_are_judged_on_each_run_alone_and_the_moved_ones_named(tmp_path):
    """tf-function-faster-than-eager-mlp holds when tf.function is faster; a second run in
    which it is slower flips the verdict, and the report names the claim."""
    copy_ledger(tmp_path)
    for run, fast in (("A", 200.0), ("B", 50.0)):
        for mode, level in (("eager", 100.0), ("function", fast)):
            stored(tmp_path, of_run(run, [level, level * 1.01, level * 0.99, level * 1.005], framework="tensorflow",
                                    mode=mode))
    _, _, _, claims = report(tmp_path, "A", "B", COMPARISON, DECLARED, WORKLOADS)
    row = claims.set_index("claim").loc["tf-function-faster-than-eager-mlp"]
    assert row["verdict_a"] != row["verdict_b"] and row["moved"]
    assert row["ratio_a"] == pytest.approx(2.0, rel=0.02) and row["ratio_b"] == pytest.approx(0.5, rel=0.02)


def test_runs_with_no_cell_in_common_are_not_compared(tmp_path):
    """A smoke run after a stored default run: no cell of one profile is in the other."""
    from pipeline.publish.reproduce import latest

    earlier = of_run("A", [100.0, 101.0, 99.0])  # default profile, kept under history/
    earlier["profile"] = "default"
    path = results.result_path(tmp_path, MACHINE, earlier["workload"], earlier["framework"], earlier["mode"],
                               earlier["profile"])
    kept = results.history_path(tmp_path, MACHINE, "A", earlier["workload"], path.stem)
    kept.parent.mkdir(parents=True)
    kept.write_text(json.dumps(earlier))
    stored(tmp_path, of_run("B", [100.0, 101.0, 99.0]))  # smoke
    frame, summaries, record, refused = latest(tmp_path, results.load_all(tmp_path)[0], COMPARISON, DECLARED, WORKLOADS)
    assert summaries == [] and frame.empty


def test_a_tampered_history_file_is_refused_by_name_and_the_rest_still_compared(tmp_path):
    from pipeline.publish.reproduce import latest

    stored(tmp_path, three_processes("A", [100.0, 105.0, 110.0], started="2026-12-01T00:00:00+00:00"))
    stored(tmp_path, three_processes("B", [101.0, 104.0, 111.0], started="2026-12-02T00:00:00+00:00"))
    [kept] = (tmp_path / "history").rglob("*.json")
    bad = kept.with_name("torch-compile@smoke.json")
    tampered = json.loads(kept.read_text())
    tampered["metrics"]["train_throughput"]["summary"]["median"] = 1e9  # no longer its samples' median
    bad.write_text(json.dumps({**tampered, "mode": "compile"}))
    frame, summaries, _, refused = latest(tmp_path, results.load_all(tmp_path)[0], COMPARISON, DECLARED, WORKLOADS)
    assert len(refused) == 1 and str(bad) in refused[0] and "summary.median" in refused[0]
    assert list(frame["mode"]) == ["eager"] and summaries[0]["inside"] == 1


def test_precision_counts_medians_within_each_band_and_the_ranges_coverage(tmp_path):
    """The report's precision line: shares of medians within ±5% and ±10%, the median
    width of run A's repeat ranges and the share of B's medians inside them."""
    from pipeline.publish.reproduce import precision, precision_line

    a = [three_processes("A", [100.0, 110.0, 120.0], framework) for framework in ("torch", "jax", "tensorflow")]
    b = [three_processes("B", [m * f for m in (100.0, 110.0, 120.0)], fw)
         for fw, f in (("torch", 1.03), ("jax", 1.08), ("tensorflow", 1.5))]
    frame, _ = compare_runs(a, b)
    p = precision(frame)
    assert p["figures"] == 3
    assert p["within_5"] == pytest.approx(1 / 3) and p["within_10"] == pytest.approx(2 / 3)
    assert p["coverage"] == pytest.approx(2 / 3) and p["median_width"] > 1
    line = precision_line(p)
    assert "33% within ±5%, 67% within ±10%" in line and "holding 67%" in line
    assert precision(frame.iloc[0:0]) == {"figures": 0}


def test_a_cause_counts_only_in_the_direction_and_size_of_the_miss():
    """Steal or a slower machine in run B explain a lower figure in B, never a higher one,
    and only when undoing them puts B back inside A's interval."""
    def run(name, levels, steal=0.0, python_s=0.02):
        result = three_processes(name, levels)
        for p in result["processes"]:
            p.update({"status": "ok", "interference": window(steal_share=steal),
                      "canary": {"before": {"blas_s": 0.003, "python_s": python_s},
                                 "after": {"blas_s": 0.003, "python_s": python_s}}})
        return result

    a = [run("A", [100.0, 101.0, 99.0])]
    slower_machine = compare_runs(a, [run("B", [66.0, 67.0, 65.0], python_s=0.02 * 2.25)])[0].iloc[0]
    assert slower_machine["outcome"] == "explained miss" and "1.50x as slow" in slower_machine["cause"]
    faster_anyway = compare_runs(a, [run("B", [150.0, 151.0, 149.0], python_s=0.02 * 2.25)])[0].iloc[0]
    assert faster_anyway["outcome"] == "unexplained miss" and faster_anyway["cause"] == ""
    too_far = compare_runs(a, [run("B", [20.0, 21.0, 19.0], steal=0.1)])[0].iloc[0]
    assert too_far["outcome"] == "unexplained miss"  # 10% steal does not explain a figure at a fifth
    stolen = compare_runs(a, [run("B", [75.0, 76.0, 74.0], steal=0.25)])[0].iloc[0]
    assert stolen["outcome"] == "explained miss" and stolen["cause"].startswith("steal during the timed samples")
