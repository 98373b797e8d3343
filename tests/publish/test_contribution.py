"""Unit tier: a machine's results travel as a bundle (``python -m pipeline bundle``) and are
placed by ``accept``: checked as ``verify`` checks them, refused by name and without a
write when anything is wrong, an older run joining history and a newer one becoming
current, and results of an instrument that measures differently kept apart."""

from __future__ import annotations

import hashlib
import json
import shutil

import pandas as pd
import pytest
from helpers import COMPARISON, CONFIG, DECLARED, ROOT, WORKLOADS

from pipeline import cli
from pipeline.core import instruments, results
from pipeline.publish import contribution, machines, reproduce
from pipeline.publish.aggregate import aggregate

MACHINE = next((ROOT / "site_data" / "results").glob("*/mlp_digits/jax-jit.json")).parent.parent.name


def tree(folder) -> dict[str, str]:
    """Every file below ``folder`` and its digest: what a refused bundle must leave as it was."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def source(tmp_path):
    """A fixture machine's repository: the committed machine's MLP cells and its description."""
    out = tmp_path / "theirs" / "site_data"
    shutil.copytree(ROOT / "site_data" / "results" / MACHINE / "mlp_digits", out / "results" / MACHINE / "mlp_digits")
    (out / "machines").mkdir()
    shutil.copyfile(ROOT / "site_data" / "machines" / f"{MACHINE}.json", out / "machines" / f"{MACHINE}.json")
    return out


@pytest.fixture
def data(tmp_path):
    """A repository that has never seen the machine: another machine's MLP cells."""
    out = tmp_path / "ours" / "site_data"
    other = next(p for p in (ROOT / "site_data" / "results").iterdir() if p.name != MACHINE)
    shutil.copytree(other / "mlp_digits", out / "results" / other.name / "mlp_digits")
    return out


@pytest.fixture
def bundled(tmp_path, source):
    out = tmp_path / "bundle"
    contribution.bundle(source, MACHINE, out)
    return out


def accept(bundle, data):
    return contribution.accept(bundle, data, WORKLOADS, DECLARED)


def rewrite(path, change) -> None:
    result = json.loads(path.read_text())
    change(result)
    path.write_text(json.dumps(result))


def runs_to(run):
    """Move a result to another run (its id and its processes' start, which order runs)."""
    def change(result):
        for process in result["processes"]:
            process["run_id"] = run
            process["started_at"] = f"{run[:4]}-{run[4:6]}-{run[6:8]}T00:00:00+00:00"
    return change


def test_a_bundle_holds_one_machines_files_and_its_summary(tmp_path, source, capsys):
    out = tmp_path / "bundle"
    assert cli.main(["bundle", "--data-dir", str(source), "--machine", MACHINE, "--out", str(out)]) == 0
    files = {p.relative_to(out / "site_data").as_posix() for p in (out / "site_data").rglob("*.json")}
    assert files and all(f.split("/")[1] == MACHINE or f.endswith(f"/{MACHINE}.json") for f in files)
    assert {f.split("/")[0] for f in files} >= {"results", "machines"}
    summary = (out / "SUMMARY.md").read_text()
    assert f"# Results of {MACHINE}" in summary and "`python -m pipeline verify`: 0 findings" in summary
    assert summary in capsys.readouterr().out
    with pytest.raises(FileExistsError):
        contribution.bundle(source, MACHINE, out)


def test_a_bundle_is_accepted_where_the_machine_was_unknown(bundled, data):
    moves, findings, _ = accept(bundled, data)
    assert findings == []
    assert {m.action for m in moves} <= {"current", "history", "machine file"}
    for path in (bundled / "site_data").rglob("*.json"):
        assert (data / path.relative_to(bundled / "site_data")).read_bytes() == path.read_bytes()
    # accepting it again changes nothing
    again, findings, _ = accept(bundled, data)
    assert findings == [] and {m.action for m in again} <= {"same", "kept"}


def test_an_accepted_machine_is_compared_with_the_stored_one(bundled, data):
    """Bundled, verified and accepted, the fixture machine stands beside the repository's
    other machine: every MLP cell both measured is a row of machine_pairs.csv, judged."""
    _, findings, _ = accept(bundled, data)
    assert findings == []
    aggregate(data, data / "tables", CONFIG["publish"], COMPARISON, DECLARED, WORKLOADS)
    pairs = pd.read_csv(data / "tables" / "machine_pairs.csv")
    assert set(pairs["machine_a"]) | set(pairs["machine_b"]) == {MACHINE, *[p.name for p in (data / "results").iterdir()
                                                                          if p.name != MACHINE]}
    training = pairs[pairs["figure"] == "training throughput"]
    assert len(training) >= 6 and set(training["workload"]) == {"mlp_digits"}
    assert set(training["judgement"]) <= {machines.REAL, machines.WITHIN}
    assert (training["ratio_low"] < training["ratio"]).all() and (training["ratio"] < training["ratio_high"]).all()


def test_an_older_run_joins_history_and_a_newer_one_becomes_current(bundled, data):
    accept(bundled, data)
    older = bundled / "site_data" / "results" / MACHINE / "mlp_digits" / "jax-jit.json"
    newer = bundled / "site_data" / "results" / MACHINE / "mlp_digits" / "tensorflow-eager.json"
    stored_run = results.run_of(json.loads(newer.read_text()))
    rewrite(older, runs_to("20000101T000000Z"))
    rewrite(newer, runs_to("20991231T000000Z"))
    moves, findings, _ = accept(bundled, data)
    assert findings == []
    kept = data / "history" / MACHINE / "20000101T000000Z" / "mlp_digits" / "jax-jit.json"
    assert kept.read_bytes() == older.read_bytes()
    assert results.run_of(json.loads((data / "results" / MACHINE / "mlp_digits" / "tensorflow-eager.json")
                                     .read_text())) == "20991231T000000Z"
    assert (data / "history" / MACHINE / stored_run / "mlp_digits" / "tensorflow-eager.json").is_file()


def test_a_tampered_bundle_is_refused_by_name_and_nothing_is_written(bundled, data, capsys):
    tampered = bundled / "site_data" / "results" / MACHINE / "mlp_digits" / "jax-jit.json"
    rewrite(tampered, lambda r: r["metrics"]["train_throughput"]["samples"].__setitem__(0, 1e9))
    stray = bundled / "site_data" / "claims.yaml"
    stray.write_text("claims: []\n")
    before = tree(data)
    assert cli.main(["accept", "--data-dir", str(data), str(bundled)]) == 1
    out = capsys.readouterr().out
    assert f"{tampered}: field metrics.train_throughput.summary." in out
    assert f"{stray}: not a file a results pull request carries" in out
    assert "nothing was written" in out and tree(data) == before


def test_a_bundle_of_another_machine_too_or_an_unreadable_file_is_refused(bundled, data):
    """A bundle reaching into a second machine's folder is refused, and a file that is not JSON
    is named, not a crash."""
    other = bundled / "site_data" / "results" / "another-machine" / "mlp_digits" / "jax-jit.json"
    other.parent.mkdir(parents=True)
    other.write_text("{not json")
    before = tree(data)
    _, findings, _ = accept(bundled, data)
    both = ", ".join(sorted(["another-machine", MACHINE]))
    expected = f"{bundled / 'site_data'}: holds the files of 2 machines ({both}); a bundle carries one machine's"
    assert expected in findings
    assert f"{other}: not a readable JSON result" in findings
    assert tree(data) == before


def test_a_clash_with_a_stored_run_is_refused(bundled, data):
    accept(bundled, data)
    path = bundled / "site_data" / "results" / MACHINE / "mlp_digits" / "jax-jit.json"
    rewrite(path, lambda r: r.update(stderr_tail="another text"))
    _, findings, _ = accept(bundled, data)
    assert findings == [f"{path}: field processes.run_id: run "
                        f"{results.run_of(json.loads(path.read_text()))} is stored at "
                        f"{data / 'results' / MACHINE / 'mlp_digits' / 'jax-jit.json'} with other content"]


def test_results_of_an_instrument_that_measures_differently_are_marked_and_kept_apart(bundled, data, monkeypatch):
    """A bundle from an older instrument whose method differs: accepted into history,
    noted, and never set against the current result of its cell."""
    newer = instruments.Instrument(instruments.CURRENT.version + 1, "0000000", "2099-01-01", 99, "times otherwise")
    monkeypatch.setattr(instruments, "BY_VERSION", {**instruments.BY_VERSION, newer.version: newer})
    monkeypatch.setattr(instruments, "CURRENT", newer)
    accept(bundled, data)
    path = data / "results" / MACHINE / "mlp_digits" / "jax-jit.json"
    rewrite(path, lambda r: r["provenance"].update(instrument={"version": newer.version, "sha256": "0" * 64}))
    rewrite(path, runs_to("20991231T000000Z"))
    old = bundled / "site_data" / "results" / MACHINE / "mlp_digits" / "jax-jit.json"
    rewrite(old, runs_to("20000101T000000Z"))
    _, findings, notes = accept(bundled, data)
    assert findings == [] and any("compared only with results of the same method" in n for n in notes)
    current = results.load(path)
    kept, _ = results.load_history(data, "20000101T000000Z")
    assert [results.run_of(r) for r in kept] == ["20000101T000000Z"]
    assert reproduce.previous(kept, [current]) == []
    rewrite(path, lambda r: r["provenance"].update(instrument={"version": instruments.INSTRUMENTS[-1].version,
                                                               "sha256": "0" * 64}))
    assert len(reproduce.previous(kept, [results.load(path)])) == 1
