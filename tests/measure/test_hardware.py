"""Unit tier: the machine's description (pipeline/measure/hardware.py): its id names the
GPUs, and the precisions it runs natively follow its flags."""

from __future__ import annotations

from pipeline.measure import hardware


def test_machine_id_includes_gpus(monkeypatch):
    monkeypatch.setattr(hardware, "cpu_model", lambda: "AMD EPYC 7B13 64-Core Processor")
    monkeypatch.setattr(hardware, "nvidia_gpus", lambda: [{"name": "NVIDIA H100 80GB HBM3"}])
    monkeypatch.setattr(hardware, "tpu_present", lambda: False)
    assert hardware.machine_id().endswith("-nvidia-h100-80gb-hbm3-x1")
    assert hardware.machine_id().startswith("amd-epyc-7b13-64-core-")


def test_native_precisions_follow_the_hardware(monkeypatch):
    monkeypatch.setattr(hardware, "cpu_flags", lambda: {"avx2", "avx512_bf16"})
    assert hardware.native_precisions("cpu") == ("fp32", "bf16")
    monkeypatch.setattr(hardware, "cpu_flags", lambda: {"avx2"})
    assert hardware.native_precisions("cpu") == ("fp32",)
    assert hardware.native_precisions("cuda", True) == ("fp32", "bf16")
    assert hardware.native_precisions("cuda", False) == ("fp32",)
