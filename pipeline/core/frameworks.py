"""The frameworks the harness knows: their modes, packages and backend modules.

A backend module (``<name>_backend.py``) is imported only inside the one process
that measures that framework, so two frameworks never share a process.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
from dataclasses import dataclass, field
from types import ModuleType


@dataclass(frozen=True)
class Framework:
    name: str
    label: str
    #: Modes in the order pages show them; the first is the "as most people use it" one.
    modes: tuple[str, ...]
    mode_labels: dict[str, str]
    #: Importable module that must exist for the framework to run.
    module: str
    #: Distributions whose versions are recorded with every result.
    distributions: tuple[str, ...]
    install_hint: str
    #: Environment a mode needs before the framework is imported (Keras picks its
    #: backend from KERAS_BACKEND at import time).
    mode_env: dict[str, dict[str, str]] = field(default_factory=dict)

    def backend(self) -> ModuleType:
        return importlib.import_module(f"pipeline.measure.backends.{self.name}_backend")

    def installed(self) -> bool:
        try:
            return importlib.util.find_spec(self.module) is not None
        except (ImportError, ValueError):  # a module that cannot even be located
            return False

    def needs(self, mode: str) -> tuple[str, ...]:
        """The frameworks a mode runs on: itself, and for Keras its backend."""
        backend = self.mode_env.get(mode, {}).get("KERAS_BACKEND")
        return (self.name, backend) if backend else (self.name,)

    def versions(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for dist in self.distributions:
            try:
                out[dist] = importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                out[dist] = None
        return out


FRAMEWORKS: dict[str, Framework] = {
    f.name: f
    for f in (
        Framework(
            name="torch",
            label="PyTorch",
            modes=("eager", "compile"),
            mode_labels={"eager": "eager", "compile": "torch.compile"},
            module="torch",
            distributions=("torch",),
            install_hint="pip install torch==2.13.0 (CPU) or your CUDA build",
        ),
        Framework(
            name="tensorflow",
            label="TensorFlow",
            modes=("eager", "function", "xla"),
            mode_labels={
                "eager": "eager",
                "function": "tf.function",
                "xla": "tf.function(jit_compile=True)",
            },
            module="tensorflow",
            distributions=("tensorflow", "tensorflow-cpu", "keras"),
            install_hint="pip install tensorflow-cpu (CPU) or tensorflow[and-cuda]",
        ),
        Framework(
            name="jax",
            label="JAX/Flax",
            modes=("jit",),
            mode_labels={"jit": "jax.jit"},
            module="jax",
            distributions=("jax", "jaxlib", "flax", "optax", "jax-cuda12-plugin", "jax-cuda13-plugin"),
            install_hint="pip install jax flax optax (CPU) or jax[cuda12]",
        ),
        Framework(
            name="keras",
            label="Keras 3",
            # one model definition, run on each backend; Keras compiles the step
            # with its default (jit_compile="auto": XLA on TensorFlow and JAX)
            modes=("tensorflow", "jax", "torch"),
            mode_labels={"tensorflow": "on TensorFlow", "jax": "on JAX", "torch": "on PyTorch"},
            module="keras",
            distributions=("keras",),
            install_hint="pip install keras plus the backend's framework",
            mode_env={mode: {"KERAS_BACKEND": mode} for mode in ("tensorflow", "jax", "torch")},
        ),
    )
}


def get(name: str) -> Framework:
    try:
        return FRAMEWORKS[name]
    except KeyError:
        raise KeyError(f"unknown framework {name!r}; known: {', '.join(FRAMEWORKS)}") from None


def missing(framework: str, mode: str) -> str | None:
    """The first framework a cell needs that this machine lacks, or None."""
    return next((name for name in FRAMEWORKS[framework].needs(mode) if not FRAMEWORKS[name].installed()), None)


def all_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for fw in FRAMEWORKS.values():
        out.update(fw.versions())
    return out
