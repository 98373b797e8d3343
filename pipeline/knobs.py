"""The speed knobs, set the same way for every framework before it is imported.

Thread pools read their sizes at import time, and JAX ignores ``OMP_NUM_THREADS``
but respects the CPU affinity mask, so the worker calls :func:`apply` first thing.
Everything set here is returned and stored with the result.
"""

from __future__ import annotations

import os
import tempfile

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)


def apply(threads: int) -> dict:
    """Pin this process to ``threads`` CPUs and set the environment knobs."""
    available = sorted(os.sched_getaffinity(0))
    if threads > len(available):
        raise ValueError(f"asked for {threads} threads but only {len(available)} CPUs are available")
    cpus = available[:threads]
    os.sched_setaffinity(0, cpus)

    env = {name: str(threads) for name in THREAD_VARIABLES}
    # no framework grabs all device memory up front: peak memory means use
    env["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
    env["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    # cold compiles: inductor and triton get an empty cache folder per process;
    # JAX and TF keep no persistent compile cache unless told to, and are not
    cache = tempfile.mkdtemp(prefix="compile-cache-")
    env["TORCHINDUCTOR_CACHE_DIR"] = os.path.join(cache, "inductor")
    env["TRITON_CACHE_DIR"] = os.path.join(cache, "triton")
    os.environ.update(env)
    for name in ("JAX_COMPILATION_CACHE_DIR", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"):
        os.environ.pop(name, None)

    recorded = {k: v for k, v in env.items() if not k.endswith("CACHE_DIR")}
    recorded["compile_cache"] = "fresh empty folder per process"
    return {"threads": threads, "cpu_affinity": cpus, "env": recorded}
