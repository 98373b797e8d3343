"""The calibration canary: a fixed, short reference timed before and after every
measured process, so a machine that changed speed from outside anything a
process can see (another tenant of the host, the clock) is caught.

Two parts, a fraction of a second each: a float64 matrix product (BLAS, with the
process's thread settings) and a pure-Python loop (the interpreter, one core).
Each reading is the fastest of a few repeats (as timeit advises: slower
repeats measure interruptions, not the machine). Drift between the two readings
of one process flags it (:func:`pipeline.core.quiet.drift`); the median reading over a
run is the machine's speed index (the environment page).
"""

from __future__ import annotations

import time

import numpy as np

from pipeline.core.quiet import CANARY_LOOP_N, CANARY_MATRIX_N

REPEATS = 5


def _blas(a: np.ndarray) -> float:
    start = time.perf_counter()
    (a @ a).sum()
    return time.perf_counter() - start


def _loop() -> float:
    start = time.perf_counter()
    total = 0
    for i in range(CANARY_LOOP_N):
        total += i * i
    return time.perf_counter() - start


def read() -> dict:
    """One reading: seconds for each part (the fastest of ``REPEATS``)."""
    a = np.random.default_rng(0).standard_normal((CANARY_MATRIX_N, CANARY_MATRIX_N))
    for _ in range(2):  # the first calls pay BLAS's thread start-up and the interpreter's warm-up
        _blas(a), _loop()
    return {"blas_s": round(min(_blas(a) for _ in range(REPEATS)), 6),
            "python_s": round(min(_loop() for _ in range(REPEATS)), 6)}
