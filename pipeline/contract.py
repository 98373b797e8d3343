"""The workload contract: what a folder under ``workloads/`` must provide.

A workload ``workloads/<name>/`` holds

``workload.yaml``
    title, task, description, per-profile sizes and timing counts, metrics and
    numerical tolerance (validated against ``pipeline/core/schemas/workload.schema.json``).
``workload.py``
    framework-neutral code: ``make_problem(seed, **size) -> Problem`` builds the
    data, the initial weights and the facts (FLOPs, cases) with NumPy only.
``torch_impl.py``, ``tensorflow_impl.py``, ``jax_impl.py``, ``keras_impl.py``
    native implementations, one per framework, each exposing
    ``build(problem, mode, device)``. Any of them may be missing: the site then
    shows that framework as *not implemented* for the workload. ``build`` (or an
    operation) raises ``NotImplementedError`` for what it does not support; the
    harness records that as *unsupported*, not as a failure.

Two kinds of workload, chosen by ``task`` in ``workload.yaml``:

*training* (``task: training``)
    ``build`` returns a :class:`Model`. The harness times the first step (trace and
    compile included), then fixed warm-up and sampled steady-state steps, then
    prediction; optional ``save``/``restore`` add checkpoint metrics, and each
    precision the workload declares beyond fp32 (``precisions: [fp32, bf16]``) is
    measured again where the device computes it natively. Implementations read the
    precision from ``problem.hyper["precision"]``.

*operations* (``task: micro-benchmark`` or ``task: inference``)
    ``problem.cases`` names timed operations (a matrix product of one size, a
    batch-1 request, one pass over a stream of batches...). ``build`` returns a
    :class:`Bench`; the harness times each case's first call and then sampled
    calls, and checks the first output against ``problem.reference`` (NumPy) and,
    in the tests, against the other frameworks.

*data-parallel* (a training workload with ``single_device: <workload>`` and a
``replicas: N`` size in every profile)
    trains the single-device workload's model over N devices natively in each
    framework; ``problem.hyper["replicas"]`` says how many. On a CPU the worker
    emulates the devices before the framework starts (``knobs.emulate_devices``:
    JAX's host device count, TensorFlow's logical CPU devices; torch starts a process
    per rank itself). The equivalence tier holds each framework to the single-device
    implementation's trajectory on the same global batches, and the ergonomics table
    counts the lines that differ between the two files.

Arrays reach an implementation already placed on the device, so host-to-device
copies never fall inside a timed region. Weights travel between frameworks as
NumPy arrays in one canonical layout (dense kernels ``(in, out)``, convolution
kernels ``(kh, kw, in, out)``), which is what the equivalence tests rely on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol

import numpy as np

#: The file an implementation of each framework lives in, inside a workload folder.
IMPL_FILES = {
    "torch": "torch_impl.py",
    "tensorflow": "tensorflow_impl.py",
    "jax": "jax_impl.py",
    "keras": "keras_impl.py",
}
NEUTRAL_FILE = "workload.py"
DECLARATION_FILE = "workload.yaml"
TRAINING = "training"
#: The ``size`` key of a data-parallel workload: how many devices it trains over.
REPLICAS = "replicas"
PRECISIONS = ("fp32", "bf16")
#: Sizes a workload declares in ``workload.yaml``: ``smoke`` (seconds per cell, the
#: tests), ``default`` (the main job on a 2-core CPU), ``full`` (long GPU runs) and
#: ``gpu`` (the whole suite on one GPU within a few minutes; see ``pipeline/measure/budget.py``).
PROFILES = ("smoke", "default", "full", "gpu")


@dataclass
class Case:
    """One timed operation of an operations workload, the same for every framework."""

    #: Work one call does, in ``unit`` (FLOPs for a matmul, examples for a request).
    work: float
    unit: str
    #: A latency case syncs after every call, so each sample is one call and the
    #: page reports p50/p90/p99; a throughput case syncs once per sample.
    latency: bool = False
    precision: str = "fp32"
    #: Calls per timed sample for throughput cases (bigger operations need fewer).
    repeat: int = 1
    description: str = ""
    #: Relative tolerance of the output against the reference and the other
    #: frameworks; None uses the workload's ``tolerance.output_rtol``.
    rtol: float | None = None
    #: Model FLOPs of one call where the workload counts them (the GPU profile's
    #: budget sizes samples from them); None where not counted. A case whose
    #: ``unit`` is "FLOP" does ``work`` FLOPs.
    flops: float | None = None

    @property
    def flops_per_call(self) -> float | None:
        return self.work if self.unit == "FLOP" else self.flops


@dataclass
class Problem:
    """Everything a framework needs to do the same work as the others."""

    #: One epoch of training batches in a fixed order, each a tuple of NumPy arrays
    #: passed positionally to ``train_step`` (``(x, y)``, or ``(x, y, crop, flip)``
    #: where augmentation draws are made once, in NumPy, so all frameworks agree).
    train_batches: list[tuple[np.ndarray, ...]] = field(default_factory=list)
    #: Held-out inputs and integer labels; accuracy is ``argmax(logits, -1) == y``.
    eval_x: np.ndarray | None = None
    eval_y: np.ndarray | None = None
    #: Initial weights by canonical name, shared by every framework.
    init_weights: dict[str, np.ndarray] = field(default_factory=dict)
    #: Hyper-parameters an implementation reads (learning rate, layer sizes...).
    hyper: dict[str, Any] = field(default_factory=dict)
    #: Model FLOPs of one training step (forward + backward), for utilisation.
    flops_per_train_step: float = 0.0
    #: Model FLOPs of one forward pass over a single example.
    flops_per_example_forward: float = 0.0
    #: What a training example counts as for throughput: "samples", or "tokens"
    #: with ``units_per_example`` tokens per sequence.
    unit: str = "samples"
    units_per_example: int = 1
    #: Operations workloads: the timed cases, by name, in page order.
    cases: dict[str, Case] = field(default_factory=dict)
    #: Operations workloads: NumPy inputs the implementations read, by name.
    data: dict[str, np.ndarray] = field(default_factory=dict)
    #: Operations workloads: ``reference(case) -> np.ndarray`` the expected output
    #: (float64 NumPy or finite differences), or None where only cross-framework
    #: agreement is checked.
    reference: Callable[[str], np.ndarray | None] | None = None
    #: Free-form facts shown on the workload page (parameter count, data size...).
    facts: dict[str, Any] = field(default_factory=dict)
    #: A workload that declares ``uses:`` gets the used workloads, by name, as
    #: ``make_problem(..., used=...)``; it keeps them here for its implementations.
    used: dict[str, Used] = field(default_factory=dict)
    #: Set by the harness before ``build``, never by ``make_problem``: this
    #: workload's own ``workload.py`` (an implementation does not import it), and
    #: ``place(array)``, which puts a NumPy array on the device exactly as the harness
    #: places training batches (for an implementation that trains a used model).
    neutral: ModuleType | None = None
    place: Callable[[np.ndarray], Any] | None = None

    @property
    def batch_size(self) -> int:
        return int(self.train_batches[0][0].shape[0])

    @property
    def units_per_step(self) -> int:
        return self.batch_size * self.units_per_example

    def inference_inputs(self, batch: int) -> np.ndarray:
        """A fixed batch of held-out inputs for inference timing (repeated if short)."""
        reps = -(-batch // len(self.eval_x))
        return np.concatenate([self.eval_x] * reps)[:batch]


@dataclass(frozen=True)
class Used:
    """A workload named under ``uses:``, as the harness hands it over: its own
    ``make_problem`` (same arguments as its ``workload.py``'s) and its
    implementation module for a framework. Nothing of the pipeline but this
    contract is imported by a workload."""

    make_problem: Callable[..., Problem]
    implementation: Callable[[str], ModuleType]


class Model(Protocol):
    """What ``build`` returns for a training workload."""

    def train_step(self, *batch: Any) -> Any:
        """One optimiser step on a device batch; returns the loss, not synced."""

    def predict(self, x: Any) -> Any:
        """Logits for a device batch, not synced."""

    def weights(self) -> dict[str, np.ndarray]:
        """Current weights as NumPy arrays in the canonical layout."""

    # Optional: def save(self, directory: str) -> None  and
    #           def restore(self, directory: str) -> None
    # in the framework's own checkpoint format; the harness times both, sums the
    # files' sizes and checks that a freshly built model predicts the same after
    # restore.


#: What an operation may return besides its callable: extra facts about the case
#: by metric name, as ``(unit, value)`` (exported file size, load time...).
Extras = dict[str, tuple[str, float]]


class Bench(Protocol):
    """What ``build`` returns for an operations workload."""

    def operation(self, case: str) -> Callable[[], Any] | tuple[Callable[[], Any], Extras]:
        """Prepare ``case`` (inputs on the device, exported files written...) and
        return a no-argument callable doing one call's work and returning its
        output, not synced; raise NotImplementedError where the framework or mode
        cannot do it, with the reason."""
