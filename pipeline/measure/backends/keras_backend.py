"""Keras 3: the backend named by KERAS_BACKEND (set per mode before import) does
the threads, placement, sync and memory statistics; Keras adds its own seeding."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import numpy as np

BACKEND_MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}


def native() -> ModuleType:
    """The harness backend module of the framework Keras runs on in this process."""
    name = os.environ.get("KERAS_BACKEND", "tensorflow")
    if name not in BACKEND_MODULES:
        raise NotImplementedError(f"Keras backend {name!r} is not one the harness measures")
    return importlib.import_module(f"pipeline.measure.backends.{BACKEND_MODULES[name]}_backend")


def configure(threads: int, seed: int) -> dict:
    applied = native().configure(threads, seed)
    import keras

    keras.utils.set_random_seed(seed)
    if keras.backend.backend() != os.environ.get("KERAS_BACKEND", "tensorflow"):
        raise RuntimeError(f"Keras imported with backend {keras.backend.backend()!r}, "
                           f"not KERAS_BACKEND={os.environ.get('KERAS_BACKEND')!r}")
    return {**applied, "keras_backend": keras.backend.backend()}


def visible_accelerators() -> list[dict]:
    return native().visible_accelerators()


def device(kind: str):
    return native().device(kind)


def put(array: np.ndarray, dev):
    """What the backend Keras runs on does (the PyTorch, TensorFlow or JAX row): a Keras model
    receives the same arrays as a native model on that framework."""
    return native().put(array, dev)


def sync(value, model, dev) -> None:
    native().sync(value, model, dev)


def to_numpy(value) -> np.ndarray:
    if isinstance(value, (float, int, np.floating, np.ndarray)):
        return np.asarray(value)
    return native().to_numpy(value)


def reset_peak_memory(dev) -> None:
    native().reset_peak_memory(dev)


def device_peak_bytes(dev) -> int | None:
    return native().device_peak_bytes(dev)


def compile_count(model) -> int:
    return native().compile_count(model)


def graph_breaks(model) -> dict[str, int] | None:
    return native().graph_breaks(model)


def trace_counts(model) -> list[int] | None:
    return native().trace_counts(model)


def bf16_supported(dev) -> bool | None:
    return native().bf16_supported(dev)
