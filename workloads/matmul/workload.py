"""matmul, framework-neutral part: the square products C = A @ B to time, in NumPy.

Canonical layout: ``data["a<n>"]`` and ``data["b<n>"]`` are row-major float32
``(n, n)`` matrices, one pair per size, shared by the fp32 and bf16 cases of that
size. Every framework computes ``C = A @ B`` (no transposes, no bias). A bf16 case
casts A and B to bfloat16 on the device while the operation is prepared (outside
the timed call) and multiplies in bfloat16 the framework's native way; the output
stays bfloat16.

The entries are drawn uniformly from [0.5, 1.5): every entry of C is then a sum of
n positive terms close to n, far from zero, so an element-wise relative error is
meaningful (no cancellation) and a bf16 product that accumulated in bf16 instead
of fp32 would show up as a large error rather than hide in the noise.

``rtol`` compares ``max|C - C_ref| / max|C_ref|``; with these inputs it is also
(within a factor of about 1.5) the largest element-wise relative error.
"""

from __future__ import annotations

import numpy as np

from pipeline.contract import Case, Problem

#: float64 references up to this size; above it only the frameworks are compared
#: with each other (a float64 product of 2048^2 takes seconds in NumPy).
REFERENCE_MAX_N = 1024
#: fp32: sums of n rounded products; bf16: inputs and output rounded to 8 bits of
#: mantissa (relative 2^-9 each), accumulation in fp32
RTOL = {"fp32": 1e-5, "bf16": 1e-2}


def case_name(precision: str, n: int) -> str:
    return f"{precision}_{n}"


def repeats(n: int, sample_flop: float) -> int:
    """Calls per timed sample: about ``sample_flop`` FLOPs of work, at least one call."""
    return max(1, int(round(sample_flop / (2.0 * n**3))))


def make_problem(
    seed: int, fp32: list[int], bf16: list[int], sample_flop: dict[str, float]
) -> Problem:
    """``fp32``/``bf16``: the sizes n of each precision; ``sample_flop``: the work of
    one timed sample per precision, from which each case's ``repeat`` follows (fewer
    calls for bigger sizes, so every sample takes roughly the same time)."""
    rng = np.random.default_rng(seed)
    data: dict[str, np.ndarray] = {}
    for n in sorted(set(fp32) | set(bf16)):
        # drawn in float32 directly: the 16384^2 inputs of the full profile would
        # otherwise pass through 2 GiB float64 temporaries
        data[f"a{n}"] = rng.random((n, n), dtype=np.float32) + np.float32(0.5)
        data[f"b{n}"] = rng.random((n, n), dtype=np.float32) + np.float32(0.5)

    cases: dict[str, Case] = {}
    sizes: dict[str, int] = {}
    for precision, ns in (("fp32", fp32), ("bf16", bf16)):
        for n in ns:
            name = case_name(precision, n)
            sizes[name] = n
            cases[name] = Case(
                work=2.0 * n**3,  # n^2 outputs, n multiply-adds each
                unit="FLOP",
                precision=precision,
                repeat=repeats(n, sample_flop[precision]),
                description=f"C = A @ B, {n}x{n} {precision}"
                + ("" if precision == "fp32" else " (inputs cast on the device, untimed)"),
                rtol=RTOL[precision],
            )

    def reference(case: str) -> np.ndarray | None:
        n = sizes[case]
        if n > REFERENCE_MAX_N:
            return None  # cross-framework agreement only
        a, b = data[f"a{n}"].astype(np.float64), data[f"b{n}"].astype(np.float64)
        # bf16 cases are compared with the exact product of the fp32 inputs: the
        # rtol covers rounding the inputs (and the output) to bf16
        return a @ b

    return Problem(
        cases=cases,
        data=data,
        reference=reference,
        hyper={"sizes": sizes},
        facts={
            "sizes fp32": ", ".join(map(str, fp32)) or "none",
            "sizes bf16": ", ".join(map(str, bf16)) or "none",
            "input entries": "uniform in [0.5, 1.5)",
            "float64 reference": f"n <= {REFERENCE_MAX_N}",
        },
    )
