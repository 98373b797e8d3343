"""PyTorch: threads, precision, placement, sync and memory statistics."""

from __future__ import annotations

import numpy as np
import torch


def configure(threads: int, seed: int) -> dict:
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(threads)
    # full fp32 matmuls everywhere: TF32 off, as set for TensorFlow and JAX
    torch.set_float32_matmul_precision("highest")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = False
    torch.manual_seed(seed)
    return {
        "intra_op_threads": torch.get_num_threads(),
        "inter_op_threads": torch.get_num_interop_threads(),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "cudnn_benchmark": False,
    }


def visible_accelerators() -> list[dict]:
    if not torch.cuda.is_available():
        return []
    return [
        {"kind": "cuda", "name": torch.cuda.get_device_name(i), "index": i}
        for i in range(torch.cuda.device_count())
    ]


def device(kind: str) -> torch.device:
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("torch sees no CUDA device")
        return torch.device("cuda:0")
    if kind != "cpu":
        raise NotImplementedError(f"torch runs here on cpu or cuda, not {kind}")
    return torch.device("cpu")


def put(array: np.ndarray, dev: torch.device) -> torch.Tensor:
    """torch.from_numpy of the array (made C-contiguous first), int32 widened to int64 (the class
    indices cross_entropy wants), then .to(device). Every other dtype is kept: float64 stays float64."""
    tensor = torch.from_numpy(np.ascontiguousarray(array))
    if tensor.dtype == torch.int32:
        tensor = tensor.long()  # cross_entropy wants int64 class indices
    return tensor.to(dev)


def sync(value, model, dev: torch.device) -> None:
    # CPU kernels run synchronously; CUDA kernels are queued
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def to_numpy(value) -> np.ndarray:
    if not isinstance(value, torch.Tensor):
        return np.asarray(value)
    value = value.detach().cpu()
    if value.dtype == torch.bfloat16:  # NumPy has no bfloat16; every bf16 value is exact in fp32
        value = value.float()
    return value.numpy()


def reset_peak_memory(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)


def device_peak_bytes(dev: torch.device) -> int | None:
    if dev.type == "cuda":
        return int(torch.cuda.max_memory_allocated(dev))
    return None


def compile_count(model) -> int:
    """Graphs TorchDynamo has compiled in this process (0 in eager mode)."""
    from torch._dynamo.utils import counters

    return int(counters["stats"]["unique_graphs"])


def graph_breaks(model) -> dict[str, int] | None:
    """Places TorchDynamo left to eager Python in this process so far, by reason: graph
    breaks, and functions it gave up on whole (``frames`` tried but not ok, e.g. an
    ``nn.GRU``), whose reasons it files under ``unimplemented``. None when Dynamo tried
    no function at all (eager mode): nothing was compiled, so nothing fell back."""
    from torch._dynamo.utils import counters

    tried = int(counters["frames"]["total"])
    if tried == 0:
        return None
    found = {reason: int(n) for reason, n in counters["graph_break"].items() if n > 0}
    skipped = tried - int(counters["frames"]["ok"])
    if skipped > 0:
        # an unsupported construct in a frame that cannot break makes Dynamo skip the frame
        whole = {reason: int(n) for reason, n in counters["unimplemented"].items() if n > 0}
        for reason, n in (whole or {"function left uncompiled (no reason given)": skipped}).items():
            found[reason] = found.get(reason, 0) + n
    return found


def trace_counts(model) -> list[int] | None:
    """tf.function's measure of partial compilation; torch has none."""
    return None


def bf16_supported(dev: torch.device) -> bool | None:
    """On CUDA, what the driver reports (Ampere and later); on CPU the harness reads the CPU flags."""
    return bool(torch.cuda.is_bf16_supported()) if dev.type == "cuda" else None
