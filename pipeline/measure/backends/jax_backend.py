"""JAX: threads, precision, placement, sync and memory statistics."""

from __future__ import annotations

import jax
import numpy as np

_COMPILES = [0]


def _count_compile(event: str, duration: float, **kwargs) -> None:
    if event.endswith("backend_compile_duration"):
        _COMPILES[0] += 1


def configure(threads: int, seed: int) -> dict:
    # XLA's CPU thread pool follows the affinity mask set before import, not
    # OMP_NUM_THREADS; precision "highest" keeps fp32 matmuls off TF32 on GPU
    jax.config.update("jax_default_matmul_precision", "highest")
    jax.monitoring.register_event_duration_secs_listener(_count_compile)
    return {
        "intra_op_threads": "affinity mask",
        "default_matmul_precision": jax.config.jax_default_matmul_precision,
        "platform": jax.default_backend(),
    }


def visible_accelerators() -> list[dict]:
    out = []
    for dev in jax.devices():
        if dev.platform in ("gpu", "cuda", "rocm"):
            out.append({"kind": "cuda", "name": dev.device_kind, "index": dev.id})
        elif dev.platform == "tpu":
            out.append({"kind": "tpu", "name": dev.device_kind, "index": dev.id})
    return out


def device(kind: str) -> jax.Device:
    platform = {"cpu": "cpu", "cuda": "gpu", "tpu": "tpu"}[kind]
    try:
        return jax.devices(platform)[0]
    except RuntimeError as err:
        raise RuntimeError(f"jax sees no {platform} device: {err}") from None


def put(array: np.ndarray, dev: jax.Device) -> jax.Array:
    """jax.device_put onto the device, which commits the array to it. JAX runs in its default
    32-bit mode, so 64-bit arrays become 32-bit (int64 to int32, float64 to float32); other dtypes
    are kept."""
    return jax.device_put(array, dev)


def sync(value, model, dev: jax.Device) -> None:
    # JAX dispatches asynchronously even on the CPU; wait for the loss and for the
    # updated state the step produced (implementations keep it in ``model.state``)
    jax.block_until_ready((value, getattr(model, "state", None)))


def to_numpy(value) -> np.ndarray:
    return np.asarray(value)


def reset_peak_memory(dev: jax.Device) -> None:
    """JAX cannot reset its peak counter; each cell is a fresh process instead."""


def device_peak_bytes(dev: jax.Device) -> int | None:
    if dev.platform == "cpu":
        return None
    stats = dev.memory_stats() or {}
    peak = stats.get("peak_bytes_in_use")
    return int(peak) if peak is not None else None


def compile_count(model) -> int:
    """XLA compilations in this process so far (the harness takes differences)."""
    return _COMPILES[0]


def graph_breaks(model) -> dict[str, int] | None:
    """jax.jit traces a function whole or fails: it never breaks to eager."""
    return None


def trace_counts(model) -> list[int] | None:
    """Compilations after the first step or call already count JAX's retraces."""
    return None


def bf16_supported(dev: jax.Device) -> bool | None:
    """GPUs from compute capability 8.0 and TPUs; on CPU the harness reads the CPU flags."""
    if dev.platform == "tpu":
        return True
    if dev.platform == "gpu":
        return float(getattr(dev, "compute_capability", "0")) >= 8.0
    return None
