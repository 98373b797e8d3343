"""The clock the harness uses, shared by the measured process and the
independent-timer check, so that the check tests exactly this code.

The measured process hands :func:`observe` what watches its timed samples (an
interference window): it is resumed just before a run of samples and paused just
after, outside the timed calls, so what else ran is read over the samples
themselves and not over setup, compiling and checking."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

_observer = None


def observe(observer) -> None:
    """``observer.resume()`` before each run of samples, ``observer.pause()`` after it
    (None: nothing watches)."""
    global _observer
    _observer = observer


def timed(fn: Callable[[], Any], sync: Callable[[Any], None]) -> float:
    """Wall-clock seconds for ``fn()`` until ``sync`` says its result is ready."""
    start = time.perf_counter()
    sync(fn())
    return time.perf_counter() - start


def sample(fn: Callable[[], Any], sync: Callable[[Any], None], warmup: int, samples: int,
           per_sample: int) -> list[float]:
    """A fixed warm-up, then ``samples`` timings of ``per_sample`` calls each, one
    sync per sample. Returns seconds per call for every sample."""
    for _ in range(warmup):
        sync(fn())

    def block():
        out = None
        for _ in range(per_sample):
            out = fn()
        return out

    if _observer is not None:
        _observer.resume()
    try:
        return [timed(block, sync) / per_sample for _ in range(samples)]
    finally:
        if _observer is not None:
            _observer.pause()
