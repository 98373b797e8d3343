"""matmul in JAX: ``jax.jit(jnp.matmul)``, one XLA executable per shape and dtype.

bf16 cases cast the committed inputs with ``.astype(jnp.bfloat16)`` once, when
the case is prepared; the product is then a bf16 ``jnp.matmul`` whose output
stays bf16. The harness sets ``jax_default_matmul_precision="highest"``, which
only affects fp32 inputs (no TF32 on GPUs).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

DTYPES = {"fp32": jnp.float32, "bf16": jnp.bfloat16}


class Bench:
    def __init__(self, problem, mode: str, device: jax.Device):
        if mode != "jit":
            raise NotImplementedError(f"jax has no mode {mode!r}")
        self.problem = problem
        self.device = device
        self.matmul = jax.jit(jnp.matmul)

    def operation(self, case: str):
        spec = self.problem.cases[case]
        n = self.problem.hyper["sizes"][case]
        dtype = DTYPES[spec.precision]
        # committed to the device, so the jitted call runs there; the cast is
        # dispatched and finished here, outside the timed calls
        a = jax.device_put(self.problem.data[f"a{n}"], self.device).astype(dtype)
        b = jax.device_put(self.problem.data[f"b{n}"], self.device).astype(dtype)
        jax.block_until_ready((a, b))
        fn = self.matmul
        return lambda: fn(a, b)


def build(problem, mode: str, device: jax.Device) -> Bench:
    return Bench(problem, mode, device)
