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
from dataclasses import dataclass
from types import ModuleType
from typing import Any


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


def first_non_finite(values: list[float]) -> int | None:
    return next((i for i, v in enumerate(values) if not math.isfinite(v)), None)
