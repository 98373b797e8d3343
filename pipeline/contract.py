"""The workload contract: what a folder under ``workloads/`` must provide.

A workload ``workloads/<name>/`` holds

``workload.yaml``
    title, task, description, per-profile sizes and timing counts, metrics and
    numerical tolerance (validated against ``pipeline/schemas/workload.schema.json``).
``workload.py``
    framework-neutral code: ``make_problem(seed, **size) -> Problem`` builds the
    data, the initial weights and the facts (FLOPs per step) with NumPy only.
``torch_impl.py``, ``tensorflow_impl.py``, ``jax_impl.py``
    one native implementation per framework, each exposing the same names:
    ``build(problem, mode, device) -> Model``. ``build`` raises
    ``NotImplementedError`` for a mode it does not support; the harness records
    that cell as *unsupported*, not as a failure.

A ``Model`` (see :class:`Model`) trains and predicts on arrays that the harness has
already placed on the device, so host-to-device copies never fall inside a timed
region. Weights travel between frameworks as NumPy arrays in one canonical layout
(dense kernels are ``(in, out)``), which is what the equivalence tests rely on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

#: The file an implementation of each framework lives in, inside a workload folder.
IMPL_FILES = {
    "torch": "torch_impl.py",
    "tensorflow": "tensorflow_impl.py",
    "jax": "jax_impl.py",
}
NEUTRAL_FILE = "workload.py"
DECLARATION_FILE = "workload.yaml"


@dataclass
class Problem:
    """Everything a framework needs to do the same work as the others."""

    #: One epoch of training batches, ``(x, y)`` NumPy pairs, in a fixed order.
    #: The harness cycles through them; every batch has the same shape.
    train_batches: list[tuple[np.ndarray, np.ndarray]]
    #: Held-out inputs and integer labels for accuracy.
    eval_x: np.ndarray
    eval_y: np.ndarray
    #: Initial weights by canonical name, shared by every framework.
    init_weights: dict[str, np.ndarray]
    #: Hyper-parameters an implementation reads (learning rate, layer sizes...).
    hyper: dict[str, Any]
    #: Model FLOPs of one training step (forward + backward), for utilisation.
    flops_per_train_step: float
    #: Model FLOPs of one forward pass over a single example.
    flops_per_example_forward: float
    #: Free-form facts shown on the workload page (parameter count, data size...).
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def batch_size(self) -> int:
        return int(self.train_batches[0][0].shape[0])

    def inference_inputs(self, batch: int) -> np.ndarray:
        """A fixed batch of held-out inputs for inference timing (repeated if short)."""
        reps = -(-batch // len(self.eval_x))
        return np.concatenate([self.eval_x] * reps)[:batch]


class Model(Protocol):
    """What ``build`` returns in every implementation."""

    def train_step(self, x: Any, y: Any) -> Any:
        """One optimiser step on a device batch; returns the loss, not synced."""

    def predict(self, x: Any) -> Any:
        """Logits for a device batch, not synced."""

    def weights(self) -> dict[str, np.ndarray]:
        """Current weights as NumPy arrays in the canonical layout."""
