"""mlp_digits in JAX: a Flax NNX module, Optax Adam, one jax.jit-compiled step.

The step is a pure function of the split NNX state (Flax's recommended fast path),
so the Python overhead of walking the module graph stays outside the hot loop.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx


class MLP(nnx.Module):
    def __init__(self, hidden: int, n_features: int, n_classes: int, rngs: nnx.Rngs):
        self.dense0 = nnx.Linear(n_features, hidden, rngs=rngs)
        self.dense1 = nnx.Linear(hidden, hidden, rngs=rngs)
        self.dense2 = nnx.Linear(hidden, n_classes, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        x = nnx.relu(self.dense0(x))
        x = nnx.relu(self.dense1(x))
        return self.dense2(x)

    def dense_layers(self) -> list[nnx.Linear]:
        return [self.dense0, self.dense1, self.dense2]


def loss_fn(model: MLP, x: jax.Array, y: jax.Array) -> jax.Array:
    logits = model(x)
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


def train_step(graphdef, state, x, y):
    model, optimizer = nnx.merge(graphdef, state)
    loss, grads = nnx.value_and_grad(loss_fn)(model, x, y)
    optimizer.update(model, grads)
    return nnx.state((model, optimizer)), loss


def predict(graphdef, state, x):
    model, _ = nnx.merge(graphdef, state)
    return model(x)


class Model:
    def __init__(self, problem, mode: str, device: jax.Device):
        if mode != "jit":
            raise NotImplementedError(f"jax has no mode {mode!r}")
        hp = problem.hyper
        with jax.default_device(device):
            model = MLP(hp["hidden"], hp["n_features"], hp["n_classes"], rngs=nnx.Rngs(0))
            for i, layer in enumerate(model.dense_layers()):
                layer.kernel.value = jnp.asarray(problem.init_weights[f"w{i}"])  # (in, out)
                layer.bias.value = jnp.asarray(problem.init_weights[f"b{i}"])
            optimizer = nnx.Optimizer(model, optax.adam(hp["lr"]), wrt=nnx.Param)
        self.graphdef, state = nnx.split((model, optimizer))
        # committed to the device like the input batches, so the second step does
        # not compile again for differently placed arguments
        self.state = jax.device_put(state, device)
        # the old state buffers are donated: updated in place, as torch and TF do
        self._train_step = jax.jit(train_step, static_argnums=0, donate_argnums=1)
        self._predict = jax.jit(predict, static_argnums=0)

    def train_step(self, x: jax.Array, y: jax.Array) -> jax.Array:
        self.state, loss = self._train_step(self.graphdef, self.state, x, y)
        return loss

    def predict(self, x: jax.Array) -> jax.Array:
        return self._predict(self.graphdef, self.state, x)

    def weights(self) -> dict[str, np.ndarray]:
        model, _ = nnx.merge(self.graphdef, self.state)
        out = {}
        for i, layer in enumerate(model.dense_layers()):
            out[f"w{i}"] = np.asarray(layer.kernel.value)
            out[f"b{i}"] = np.asarray(layer.bias.value)
        return out


def build(problem, mode: str, device: jax.Device) -> Model:
    return Model(problem, mode, device)
