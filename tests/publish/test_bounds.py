"""Unit tier: physical bounds. A throughput claimed on hardware we lack is held
against the chip's sourced peak; the arithmetic is checked by hand here, and a
figure without its source, or a bound naming what the tables lack, is refused
with the file and the field."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from helpers import ROOT, WORKLOADS, copy_ledger

from pipeline.cli import main
from pipeline.core import references
from pipeline.publish import bounds, claims
from pipeline.publish.verdicts import IMPOSSIBLE, POSSIBLE, judge, summary

DATA = ROOT / "site_data"


def sourced() -> dict:
    return bounds.load_references(DATA)


def claim(per_second, accelerator="nvidia-v100", precision="fp16", model="resnet50-224", work="training",
          chips=None) -> dict:
    bound = {"accelerator": accelerator, "precision": precision, "model": model, "work": work,
             "per_second": list(per_second)}
    if chips:
        bound["chips"] = chips
    return {"id": "a-bound", "source": "s002", "claim": "A throughput on a chip we lack.", "bound": bound}


def test_the_peaks_table_covers_the_chips_the_articles_name_and_every_figure_is_sourced():
    table = references.load_accelerators()
    assert {"nvidia-v100", "nvidia-a100", "nvidia-h100", "nvidia-h200", "google-tpu-v3", "google-tpu-v4",
            "google-tpu-v5e"} <= set(table)
    for name, acc in table.items():
        assert "bf16" in references.peaks(acc) or "fp16" in references.peaks(acc), name
        assert "memory_bandwidth" in acc["figures"], name
        for figure in acc["figures"].values():
            assert figure["source"].startswith("https://") and figure["read"] >= "2026-12-01", (name, figure)


def test_a_rate_beyond_the_peak_is_impossible_and_the_arithmetic_is_written_out():
    row = bounds.judge(claim([45_000, 65_000]), sourced())
    # 3.8e9 multiply-adds × 2 FLOPs × 3 (training) = 22.8 GFLOP per sample; V100 FP16 peak 125 TFLOP/s
    assert row["verdict"] == IMPOSSIBLE
    assert row["a_value"] == pytest.approx(45_000 * 22.8e9)
    assert row["b_value"] == pytest.approx(125e12)
    assert row["ratio_low"] == pytest.approx(45_000 * 22.8e9 / 125e12)
    assert row["ratio_high"] == pytest.approx(65_000 * 22.8e9 / 125e12)
    assert "45,000 samples/s × 22.8 GFLOP per training sample" in row["reason"]
    assert "1,026 TFLOP/s: 8.2 times the FP16 peak of one NVIDIA V100, 125 TFLOP/s" in row["reason"]
    assert row["machine_id"] == bounds.BOUND and row["evidence"] == "claims.md#a-bound"


def test_a_rate_within_the_peak_is_possible_with_its_share_and_a_high_end_beyond_it_is_named():
    row = bounds.judge(claim([5_000, 15_000], accelerator="nvidia-a100", precision="bf16"), sourced())
    assert row["verdict"] == POSSIBLE
    assert row["ratio_low"] == pytest.approx(5_000 * 22.8e9 / 312e12)
    assert "37% of the BF16 peak of one NVIDIA A100" in row["reason"]
    assert "110% of that peak, beyond it" in row["reason"]
    # several chips: their peaks add up
    four = bounds.judge(claim([85_000, 85_000], accelerator="google-tpu-v3", precision="bf16", chips=4),
                        sourced())
    assert four["b_value"] == pytest.approx(4 * 123e12) and "4 Google Cloud TPU v3 chips" in four["reason"]


def test_the_parameter_rule_and_inference_count_the_forward_pass_only_once():
    training = bounds.judge(claim([200, 200], accelerator="nvidia-a100", precision="bf16", model="bert-base-128"),
                            sourced())
    assert training["a_value"] == pytest.approx(200 * 3 * 2 * 110e6 * 128)
    inference = bounds.judge(claim([200, 200], accelerator="nvidia-a100", precision="bf16", model="bert-base-128",
                                   work="inference"), sourced())
    assert inference["a_value"] == pytest.approx(training["a_value"] / 3)


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"accelerator": "nvidia-b9000"}, "bound.accelerator", "no entry 'nvidia-b9000' in accelerators.yaml"),
    ({"precision": "tf32", "accelerator": "nvidia-v100"}, "bound.precision", "NVIDIA V100 has no tf32_flops"),
    ({"model": "resnet-1000"}, "bound.model", "no entry 'resnet-1000' in model_costs.yaml"),
    ({"per_second": [9, 3]}, "bound.per_second", "the low end 9 is above the high end 3"),
])
def test_a_bound_naming_what_the_tables_lack_is_refused_with_the_claim_and_field(tmp_path, change, field, words):
    copy_ledger(tmp_path)
    doc = yaml.safe_load((tmp_path / "claims.yaml").read_text())
    target = next(c for c in doc["claims"] if "bound" in c)
    target["bound"].update(change)
    (tmp_path / "claims.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(claims.ClaimError, match=rf"claims.yaml: claim {target['id']}: field {field}: .*{words}"):
        claims.load(tmp_path / "claims.yaml", WORKLOADS)


def test_a_figure_without_its_source_or_date_is_refused_naming_the_file_and_field(tmp_path):
    doc = yaml.safe_load((DATA / "model_costs.yaml").read_text())
    del doc["models"]["resnet50-224"]["forward"]["read"]
    (tmp_path / "model_costs.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(references.ModelCostError,
                       match=r"model_costs.yaml: field models.resnet50-224.forward: 'read' is a required property"):
        references.load_model_costs(tmp_path / "model_costs.yaml")
    peaks = yaml.safe_load((DATA / "accelerators.yaml").read_text())
    peaks["accelerators"]["nvidia-v100"]["figures"]["fp16_flops"]["source"] = "a forum post"
    (tmp_path / "accelerators.yaml").write_text(yaml.safe_dump(peaks))
    with pytest.raises(references.AcceleratorError,
                       match=r"accelerators.yaml: field accelerators.nvidia-v100.figures.fp16_flops.source"):
        references.load_accelerators(tmp_path / "accelerators.yaml")
    (tmp_path / "accelerators.yaml").unlink()
    with pytest.raises(references.AcceleratorError, match=r"accelerators.yaml: missing"):
        references.load_accelerators(tmp_path / "accelerators.yaml")


def test_the_verdicts_command_writes_bound_rows_apart_from_the_measured_ones(tmp_path):
    out = tmp_path / "verdicts.csv"
    assert main(["verdicts", "--data-dir", str(DATA), "--out", str(out)]) == 0
    table = pd.read_csv(out)
    mine = table[table["machine_id"] == bounds.BOUND]
    ledger = yaml.safe_load((DATA / "claims.yaml").read_text())
    assert set(mine["claim"]) == {c["id"] for c in ledger["claims"] if "bound" in c}
    assert set(mine["verdict"]) <= {IMPOSSIBLE, POSSIBLE}
    assert {"jax-resnet50-v100-throughput", "tensorflow-resnet50-a100-throughput",
            "tensorflow-bert-base-a100-throughput"} <= set(mine["claim"])
    counts = summary(table)
    assert counts[IMPOSSIBLE] == int((mine["verdict"] == IMPOSSIBLE).sum())
    # a bound needs its tables; judging without them is a clear error, not a silent skip
    with pytest.raises(ValueError, match="a bound needs the peaks and model costs"):
        judge({"claims": [claim([1, 1])]}, {}, {})
