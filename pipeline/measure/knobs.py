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


def apply(threads: int, compile_cache: str | None = None) -> dict:
    """Pin this process to ``threads`` CPUs and set the environment knobs.

    ``compile_cache``: None gives the process a fresh, empty compile cache (every
    first step is a cold compile); a folder shared by the processes of one cell
    lets later processes reuse what the first one compiled (torch inductor and
    triton, JAX's persistent cache; TensorFlow has none). Whether the folder held
    anything when the process started is observed and recorded, not assumed."""
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
    cache = compile_cache or tempfile.mkdtemp(prefix="compile-cache-")
    # warm: some file is there (frameworks create empty folders even when they compile nothing)
    warm = bool(compile_cache) and any(files for _, _, files in os.walk(cache))
    env["TORCHINDUCTOR_CACHE_DIR"] = os.path.join(cache, "inductor")
    env["TRITON_CACHE_DIR"] = os.path.join(cache, "triton")
    for name in ("JAX_COMPILATION_CACHE_DIR", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS",
                 "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"):
        os.environ.pop(name, None)
    if compile_cache:
        # every compiled program is cached, however quick its compile was
        env["JAX_COMPILATION_CACHE_DIR"] = os.path.join(cache, "jax")
        env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
        env["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"
    os.environ.update(env)

    recorded = {k: v for k, v in env.items() if not k.endswith("CACHE_DIR")}
    recorded["compile_cache"] = (("warm: shared with the cell's earlier processes" if warm
                                  else "cold: shared folder, empty at start") if compile_cache
                                 else "fresh empty folder per process")
    return {"threads": threads, "cpu_affinity": cpus, "env": recorded, "warm_cache": warm}


def emulate_devices(replicas: int) -> dict:
    """Before the framework is imported: ``replicas`` CPU devices for a data-parallel
    workload where JAX reads the count (its host platform's device count, a flag read
    once, when its CPU backend starts). TensorFlow's logical devices are set by its
    backend right after import (``emulate_devices`` there); torch starts one process
    per rank itself. They only matter where the process runs on the CPU."""
    if replicas <= 1:
        return {}
    flag = f"--xla_force_host_platform_device_count={replicas}"
    os.environ["XLA_FLAGS"] = " ".join(
        [f for f in os.environ.get("XLA_FLAGS", "").split() if "host_platform_device_count" not in f] + [flag])
    return {"XLA_FLAGS": os.environ["XLA_FLAGS"], "emulated_cpu_devices": str(replicas)}
