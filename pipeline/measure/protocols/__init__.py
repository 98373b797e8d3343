"""How a measured process times each kind of workload (see pipeline/contract.py).

``training``   first step, steady-state steps, prediction, checkpoint, extra precisions.
``operations`` per case: cold first call, then sampled calls, output checked.

Both receive a :class:`Session`: the framework's backend module, the device and
the helpers that sync and convert, so neither imports a framework itself.
"""

from __future__ import annotations

import math
import resource
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from pipeline.core.metrics import scalar


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


@dataclass
class Session:
    backend: ModuleType
    dev: Any
    device_kind: str
    #: precisions this device computes natively ("fp32", and "bf16" where it can)
    native: tuple[str, ...]
    plan: dict
    #: the compile cache held what an earlier process of the cell compiled
    warm_cache: bool = False
    #: what the result keeps to show it did the same work as the other cells: the
    #: first ``evidence_steps`` training losses, or a sample of each case's output
    evidence: dict = field(default_factory=dict)
    evidence_steps: int = 5
    #: why compiling left parts to eager Python, per graph-break metric name: reason -> count
    graph_break_reasons: dict = field(default_factory=dict)

    def first(self, name: str) -> str:
        """The metric name of a first step or call: a warm-cache one is its own
        metric, never pooled with cold ones."""
        return f"{name}_warm_cache" if self.warm_cache else name

    def put(self, array):
        return self.backend.put(array, self.dev)

    def syncer(self, model) -> Callable[[Any], None]:
        return lambda value: self.backend.sync(value, model, self.dev)

    def numpy(self, value):
        return self.backend.to_numpy(value)

    def compiles(self, model) -> int:
        return self.backend.compile_count(model)

    def fallbacks(self, model) -> tuple[dict[str, int] | None, list[int] | None]:
        """(graph breaks by reason, traces per tf.function) so far in this process; None
        where the mode has no such thing (eager). The protocols take differences, as for compiles."""
        return self.backend.graph_breaks(model), self.backend.trace_counts(model)

    def record_fallbacks(self, model, before: tuple, metrics: dict, breaks: str, retracings: str) -> None:
        """Add the graph breaks and retracings since ``before`` (a :meth:`fallbacks`
        reading) to ``metrics`` under the names given, and the breaks' reasons to
        :attr:`graph_break_reasons`. An eager mode records neither: not zero, absent."""
        found, retraced = self.fallbacks(model)
        if found is not None:
            earlier = before[0] or {}
            reasons: dict[str, int] = {}
            for reason, n in found.items():
                if n > earlier.get(reason, 0):
                    key = short_reason(reason)
                    reasons[key] = reasons.get(key, 0) + n - earlier.get(reason, 0)
            metrics[breaks] = scalar("count", sum(reasons.values()))
            if reasons:
                top = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))[:MAX_REASONS]
                self.graph_break_reasons[breaks] = dict(top)
        if retraced is not None:
            # per function, traces in this step or case beyond its first there: a case's first
            # call of a function shared with earlier cases traces for its shapes, not again
            earlier = (list(before[1] or []) + [0] * len(retraced))[:len(retraced)]
            extra = sum(max(0, n - was - 1) for n, was in zip(retraced, earlier, strict=True))
            metrics[retracings] = scalar("count", extra)


#: reasons kept per graph-break metric (the count covers them all), and their length:
#: Dynamo's first line names the cause; hints, a debug context and a link follow it
MAX_REASONS = 10
REASON_CHARS = 200


def short_reason(reason: str) -> str:
    line = next((part.strip() for part in str(reason).splitlines() if part.strip()), "no reason given")
    return line if len(line) <= REASON_CHARS else line[:REASON_CHARS - 1] + "…"


#: values of an operation's first output kept as evidence, evenly spaced
EVIDENCE_VALUES = 32


def output_sample(output) -> dict:
    """Evenly spaced values of an output and its largest magnitude: enough to tell
    two frameworks' outputs apart, small enough to store with every result."""
    import numpy as np

    flat = np.ravel(np.asarray(output, dtype=np.float64))
    picks = np.unique(np.linspace(0, flat.size - 1, min(EVIDENCE_VALUES, flat.size)).astype(int))
    return {"size": int(flat.size), "indices": picks.tolist(), "values": flat[picks].tolist(),
            "scale": float(np.max(np.abs(flat))) if flat.size else 0.0}


def first_non_finite(values: list[float]) -> int | None:
    return next((i for i, v in enumerate(values) if not math.isfinite(v)), None)
