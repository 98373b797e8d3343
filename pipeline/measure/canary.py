"""The calibration canary: a fixed, short reference timed before and after every
measured process, so a machine that changed speed from outside anything a
process can see (another tenant of the host, the clock) is caught.

Two parts, a fraction of a second each: a float64 matrix product (BLAS, with the
process's thread settings) and a pure-Python loop (the interpreter, one core).
Each reading is the fastest of a few repeats (as timeit
advises: slower repeats measure interruptions, not the machine). Drift between the two readings of
one process flags it; the median reading over a run is the machine's speed index.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

MATRIX_N = 512
LOOP_N = 300_000
REPEATS = 5
#: Before and after differing by more than this factor (either way) flags the process. This
#: machine's readings move by up to a third within a quiet minute; more is a changed machine.
DRIFT_LIMIT = 1.5


def _blas(a: np.ndarray) -> float:
    start = time.perf_counter()
    (a @ a).sum()
    return time.perf_counter() - start


def _loop() -> float:
    start = time.perf_counter()
    total = 0
    for i in range(LOOP_N):
        total += i * i
    return time.perf_counter() - start


def read() -> dict:
    """One reading: seconds for each part (the fastest of ``REPEATS``)."""
    a = np.random.default_rng(0).standard_normal((MATRIX_N, MATRIX_N))
    for _ in range(2):  # the first calls pay BLAS's thread start-up and the interpreter's warm-up
        _blas(a), _loop()
    return {"blas_s": round(min(_blas(a) for _ in range(REPEATS)), 6),
            "python_s": round(min(_loop() for _ in range(REPEATS)), 6)}


def drift(before: dict | None, after: dict | None) -> str | None:
    """Why the two readings of one process disagree, in words; None when they agree."""
    if not before or not after:
        return None
    moved = []
    for part, label in (("blas_s", "matrix product"), ("python_s", "Python loop")):
        ratio = after[part] / before[part] if before[part] > 0 else 1.0
        if ratio > DRIFT_LIMIT or ratio < 1 / DRIFT_LIMIT:
            moved.append(f"{label} took {ratio:.2f}x as long after as before")
    if not moved:
        return None
    return f"the canary drifted ({', '.join(moved)}; limit {DRIFT_LIMIT:g}x)"


def speed_index(readings: list[dict]) -> dict | None:
    """The machine's speed over a run: the median of each part over every reading
    (seconds; lower is faster). None without readings."""
    if not readings:
        return None
    return {part: statistics.median(r[part] for r in readings) for part in ("blas_s", "python_s")}
