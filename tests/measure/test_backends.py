"""Unit tier: each framework's CUDA/TPU code paths (placement, sync, memory
statistics), exercised with stand-ins on machines without an accelerator. On a GPU
machine the same paths run for real in every measured cell."""

from __future__ import annotations

import types

import numpy as np
import pytest


def test_torch_cuda_paths(monkeypatch):
    torch = pytest.importorskip("torch")
    from pipeline.measure.backends import torch_backend as b

    calls = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda dev=None: calls.append(("sync", dev)))
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda dev=None: 4096)
    monkeypatch.setattr(torch.cuda, "reset_peak_memory_stats", lambda dev=None: calls.append(("reset", dev)))
    cuda = torch.device("cuda:0")
    b.sync(None, None, cuda)
    b.reset_peak_memory(cuda)
    assert calls == [("sync", cuda), ("reset", cuda)]
    assert b.device_peak_bytes(cuda) == 4096
    cpu = torch.device("cpu")
    b.sync(None, None, cpu)
    assert len(calls) == 2, "no CUDA call on the CPU"
    assert b.device_peak_bytes(cpu) is None
    # class labels become int64, which cross_entropy needs
    assert b.put(np.array([1, 2], np.int32), cpu).dtype == torch.int64
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA device"):
            b.device("cuda")
    with pytest.raises(NotImplementedError):
        b.device("tpu")


def test_tensorflow_gpu_paths(monkeypatch):
    tf = pytest.importorskip("tensorflow")
    from pipeline.measure.backends import tensorflow_backend as b

    seen = []
    monkeypatch.setattr(tf.config.experimental, "get_memory_info", lambda name: seen.append(name) or {"peak": 777})
    monkeypatch.setattr(tf.config.experimental, "reset_memory_stats", lambda name: seen.append(("reset", name)))
    assert b.device_peak_bytes("/GPU:0") == 777
    b.reset_peak_memory("/GPU:0")
    assert seen == ["GPU:0", ("reset", "GPU:0")]
    assert b.device_peak_bytes("/CPU:0") is None
    if not tf.config.list_physical_devices("GPU"):
        with pytest.raises(RuntimeError, match="sees no GPU"):
            b.device("cuda")
    assert b.device("cpu") == "/CPU:0"
    assert float(b.to_numpy(b.put(np.float32([2.5]), "/CPU:0"))[0]) == 2.5


def test_jax_gpu_and_tpu_paths(monkeypatch):
    jax = pytest.importorskip("jax")
    from pipeline.measure.backends import jax_backend as b

    gpu = types.SimpleNamespace(platform="gpu", device_kind="NVIDIA H100", id=0,
                                memory_stats=lambda: {"peak_bytes_in_use": 12345})
    tpu = types.SimpleNamespace(platform="tpu", device_kind="TPU v5e", id=1, memory_stats=lambda: {})
    cpu = types.SimpleNamespace(platform="cpu", device_kind="cpu", id=0)
    monkeypatch.setattr(jax, "devices", lambda *a: [gpu, tpu, cpu])
    assert b.visible_accelerators() == [
        {"kind": "cuda", "name": "NVIDIA H100", "index": 0},
        {"kind": "tpu", "name": "TPU v5e", "index": 1},
    ]
    assert b.device_peak_bytes(gpu) == 12345
    assert b.device_peak_bytes(tpu) is None
    assert b.device_peak_bytes(cpu) is None


def test_jax_sync_waits_for_state_too(monkeypatch):
    jax = pytest.importorskip("jax")
    from pipeline.measure.backends import jax_backend as b

    waited = []
    monkeypatch.setattr(jax, "block_until_ready", lambda x: waited.append(x))
    model = types.SimpleNamespace(state={"w": 1})
    b.sync("loss", model, None)
    assert waited == [("loss", {"w": 1})]
