"""Site tier: ``python -m pipeline ripple`` names what a change alters beyond its own
files, from a regeneration into a scratch copy that leaves the tree untouched."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from helpers import DECLARED, ROOT, WORKLOADS

from pipeline.core.config import load
from pipeline.publish import ripple

pytestmark = pytest.mark.site


def test_ripple_names_the_verdict_score_and_page_a_change_moves(tmp_path):
    data, docs = tmp_path / "site_data", tmp_path / "docs"
    shutil.copytree(ROOT / "site_data", data)
    shutil.copytree(ROOT / "docs", docs)
    cfg = load()
    # bring the copy up to date with this tree, then stand it in for "what is committed"
    ripple.regenerate(data, docs, cfg["comparison"], cfg["publish"], DECLARED, WORKLOADS)
    before = {p: p.read_bytes() for p in [*data.rglob("*"), *docs.rglob("*")] if p.is_file()}
    assert ripple.ripple(data, docs, cfg["comparison"], cfg["publish"], DECLARED, WORKLOADS) == {
        "base": "the working tree", "tables": [], "verdicts": [], "guide": [], "pages": []}

    # what a pull request would have changed before regeneration puts it right
    verdicts = pd.read_csv(data / "tables" / "verdicts.csv")
    claim, machine, verdict = verdicts.loc[0, ["claim", "machine_id", "verdict"]]
    verdicts.loc[0, "verdict"] = "not measurable"
    verdicts.to_csv(data / "tables" / "verdicts.csv", index=False)
    guide = json.loads((data / "tables" / "guide.json").read_text())
    ranked = guide[0]["machines"][0]["ranking"][0]
    ranked["score"] += 0.25
    (data / "tables" / "guide.json").write_text(json.dumps(guide))
    page = docs / "workloads" / "matmul.md"
    page.write_text(page.read_text() + "\nedited\n")

    found = ripple.ripple(data, docs, cfg["comparison"], cfg["publish"], DECLARED, WORKLOADS)
    assert [t["table"] for t in found["tables"]] == ["guide.json", "verdicts.csv"]
    assert found["verdicts"] == [{"claim": claim, "machine_id": machine, "verdict_before": "not measurable",
                                  "verdict_after": verdict}]
    assert [(g["scenario"], g["framework"]) for g in found["guide"]] == [(guide[0]["id"], ranked["framework"])]
    assert found["pages"] == ["workloads/matmul.md"]
    text = ripple.report(found, ["mlp_digits torch eager: sources changed: workloads/mlp_digits/workload.py"])
    assert "cells the DAG would measure on this machine: 1" in text and "pages that change: 1" in text
    # the scratch copy took every write: the compared folders are as they were
    edited = {p: p.read_bytes() for p in [*data.rglob("*"), *docs.rglob("*")] if p.is_file()}
    assert set(edited) == set(before)


def test_guide_changes_ignore_rounding_and_name_new_frameworks(tmp_path):
    new = tmp_path / "guide.json"
    doc = [{"id": "s", "machines": [{"machine_id": "m", "ranking": [{"framework": "jax", "score": 0.5}]}]}]
    new.write_text(json.dumps(doc))
    assert ripple.guide_changes(json.dumps(doc).encode(), new) == []
    doc[0]["machines"][0]["ranking"].append({"framework": "keras", "score": 0.4})
    new.write_text(json.dumps(doc))
    old = json.dumps([{"id": "s", "machines": [{"machine_id": "m", "ranking": [
        {"framework": "jax", "score": 0.5 + 1e-12}]}]}]).encode()
    assert ripple.guide_changes(old, new) == [
        {"scenario": "s", "machine_id": "m", "framework": "keras", "before": None, "after": 0.4}]


def test_base_reads_committed_files_from_git():
    read = ripple.baseline_reader("HEAD")
    assert read(ROOT / "mkdocs.yml") is not None
    assert read(ROOT / "no-such-file.txt") is None
    assert Path(ROOT / "mkdocs.yml").read_bytes() == ripple.baseline_reader(None)(ROOT / "mkdocs.yml")
