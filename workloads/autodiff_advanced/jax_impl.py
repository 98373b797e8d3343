"""autodiff_advanced in JAX: a Flax NNX MLP, differentiated as a pure function of
its parameter state with JAX's own transforms, each under ``jax.jit``.

* per-example gradients: ``jax.vmap(jax.grad(loss_of_one_example))``;
* loop: B calls of the jitted ``jax.grad`` of a single-example loss;
* HVP: ``jax.jvp(jax.grad(mean_loss))``, forward-over-reverse.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax
from flax import nnx


class MLP(nnx.Module):
    def __init__(self, features: int, hidden: int, classes: int, rngs: nnx.Rngs):
        self.dense0 = nnx.Linear(features, hidden, rngs=rngs)
        self.dense1 = nnx.Linear(hidden, hidden, rngs=rngs)
        self.dense2 = nnx.Linear(hidden, classes, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        x = jnp.tanh(self.dense0(x))
        x = jnp.tanh(self.dense1(x))
        return self.dense2(x)


LAYERS = ("dense0", "dense1", "dense2")


def flat(params: nnx.State, batch_dims: int = 0) -> jax.Array:
    """Canonical order w0, b0, w1, b1, w2, b2; NNX kernels are (in, out) already."""
    leaves = []
    for layer in LAYERS:
        for name in ("kernel", "bias"):
            leaf = params[layer][name].value
            leaves.append(leaf.reshape(*leaf.shape[:batch_dims], -1))
    return jnp.concatenate(leaves, axis=-1)


class Bench:
    def __init__(self, problem, mode: str, device: jax.Device):
        if mode != "jit":
            raise NotImplementedError(f"jax has no mode {mode!r}")
        hp, w = problem.hyper, problem.init_weights
        self.problem, self.device = problem, device
        with jax.default_device(device):
            model = MLP(hp["features"], hp["hidden"], hp["classes"], rngs=nnx.Rngs(0))
            for i, layer in enumerate(LAYERS):
                getattr(model, layer).kernel.value = jnp.asarray(w[f"w{i}"])
                getattr(model, layer).bias.value = jnp.asarray(w[f"b{i}"])
        # JAX's transforms act on the pure (graphdef, params) split of the module
        graphdef, params = nnx.split(model, nnx.Param)
        self.params = jax.device_put(params, device)

        def mean_loss(params, x, y):
            logits = nnx.merge(graphdef, params)(x)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

        def loss_of_one(params, x, y):
            return mean_loss(params, x[None], y[None])  # vmap strips the batch axis

        def per_example(params, x, y):
            grads = jax.vmap(jax.grad(loss_of_one), in_axes=(None, 0, 0))(params, x, y)
            return flat(grads, batch_dims=1)

        def grad_one(params, x, y):
            return flat(jax.grad(mean_loss)(params, x, y))

        def hvp(params, x, y, v):
            # forward-mode derivative of the reverse-mode gradient along v
            _, tangent = jax.jvp(lambda p: jax.grad(mean_loss)(p, x, y), (params,), (v,))
            return flat(tangent)

        self.per_example = jax.jit(per_example)
        self.grad_one = jax.jit(grad_one)
        self.hvp = jax.jit(hvp)

    def _v_like_params(self) -> nnx.State:
        """Splits the flat canonical v into a state shaped like ``self.params``."""
        v, start = self.problem.data["v"], 0
        tangent = jax.tree.map(jnp.zeros_like, self.params)
        for layer in LAYERS:
            for name in ("kernel", "bias"):
                leaf = tangent[layer][name]
                size = leaf.value.size
                leaf.value = jnp.asarray(v[start : start + size].reshape(leaf.value.shape))
                start += size
        return jax.device_put(tangent, self.device)

    def operation(self, case: str):
        params = self.params
        x = jax.device_put(self.problem.data["x"], self.device)
        y = jax.device_put(self.problem.data["y"], self.device)
        if case == "per_example_grads":
            return lambda: self.per_example(params, x, y)
        if case == "hvp":
            v = self._v_like_params()
            return lambda: self.hvp(params, x, y, v)
        if case == "per_example_grads_loop":
            grad_one, loop_batch = self.grad_one, self.problem.hyper["loop_batch"]

            def loop() -> jax.Array:
                rows = [grad_one(params, x[i : i + 1], y[i : i + 1]) for i in range(loop_batch)]
                return jnp.stack(rows)

            return loop
        raise NotImplementedError(f"unknown case {case!r}")


def build(problem, mode: str, device: jax.Device) -> Bench:
    return Bench(problem, mode, device)
