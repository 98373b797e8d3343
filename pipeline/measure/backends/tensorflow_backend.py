"""TensorFlow: threads, precision, placement, sync and memory statistics."""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def configure(threads: int, seed: int) -> dict:
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    # TF enables TF32 on Ampere and later by default; switch it off like the others
    tf.config.experimental.enable_tensor_float_32_execution(False)
    for gpu in tf.config.list_physical_devices("GPU"):
        tf.config.experimental.set_memory_growth(gpu, True)
    tf.random.set_seed(seed)
    return {
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "tensor_float_32": tf.config.experimental.tensor_float_32_execution_enabled(),
        "gpu_memory_growth": True,
    }


def emulate_devices(replicas: int) -> None:
    """``replicas`` logical CPU devices for a data-parallel workload on the CPU; allowed
    only before TensorFlow's runtime starts, so the worker calls it right after import."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * replicas)


def visible_accelerators() -> list[dict]:
    out = []
    for kind, tf_kind in (("cuda", "GPU"), ("tpu", "TPU")):
        for i, dev in enumerate(tf.config.list_physical_devices(tf_kind)):
            details = tf.config.experimental.get_device_details(dev)
            out.append({"kind": kind, "name": details.get("device_name", dev.name), "index": i})
    return out


def device(kind: str) -> str:
    names = {"cpu": "CPU", "cuda": "GPU"}
    if kind not in names:
        raise NotImplementedError(f"tensorflow runs here on cpu or cuda, not {kind}")
    if not tf.config.list_physical_devices(names[kind]):
        raise RuntimeError(f"tensorflow sees no {names[kind]} device")
    return f"/{names[kind]}:0"


def put(array: np.ndarray, dev: str) -> tf.Tensor:
    """tf.constant of the array inside tf.device(device), then tf.identity, so the tensor lives on
    that device. Every dtype is kept: int32 labels stay int32, float64 stays float64."""
    with tf.device(dev):
        return tf.identity(tf.constant(array))


def sync(value, model, dev: str) -> None:
    # waits for every op queued on every device (TF >= 2.13)
    tf.test.experimental.sync_devices()


def to_numpy(value) -> np.ndarray:
    return value.numpy()


def reset_peak_memory(dev: str) -> None:
    if dev.startswith("/GPU"):
        tf.config.experimental.reset_memory_stats(dev.strip("/"))


def device_peak_bytes(dev: str) -> int | None:
    if dev.startswith("/GPU"):
        return int(tf.config.experimental.get_memory_info(dev.strip("/"))["peak"])
    return None


def _traces(model) -> list[int]:
    """The tracing count of each of the model's tf.function attributes."""
    counts = []
    for value in vars(model).values():
        # functions kept as attributes, or in a dict or list attribute
        inner = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else [value]
        for item in inner:
            if hasattr(item, "experimental_get_tracing_count"):
                counts.append(int(item.experimental_get_tracing_count()))
    return counts


def compile_count(model) -> int:
    """Traces of the model's tf.function attributes (0 in eager mode). XLA compiles
    once per trace, so this counts compilations in the xla mode too."""
    return sum(_traces(model))


def graph_breaks(model) -> dict[str, int] | None:
    """A tf.function runs whole as one graph or fails: it never breaks to eager."""
    return None


def trace_counts(model) -> list[int] | None:
    """Each of the model's tf.functions' traces so far (a new input signature or Python
    value traces again: a retrace); None when it holds none (eager mode)."""
    return _traces(model) or None


def bf16_supported(dev: str) -> bool | None:
    """GPUs from compute capability 8.0; on CPU the harness reads the CPU flags."""
    if not dev.startswith("/GPU"):
        return None
    gpu = tf.config.list_physical_devices("GPU")[0]
    capability = tf.config.experimental.get_device_details(gpu).get("compute_capability", (0, 0))
    return tuple(capability) >= (8, 0)
