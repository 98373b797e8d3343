"""data_parallel in JAX: mlp_digits' Flax NNX module, Optax Adam and jax.jit-compiled
step, unchanged; the batch is sharded over a device mesh and the state replicated, and
jax.jit's partitioner inserts the gradient all-reduce.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jax.sharding import Mesh, NamedSharding, PartitionSpec


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
        devices = jax.devices(device.platform)[: hp["replicas"]]
        if len(devices) < hp["replicas"]:
            raise NotImplementedError(f"{hp['replicas']} replicas need {hp['replicas']} {device.platform} "
                                      f"devices; jax sees {len(devices)}")
        mesh = Mesh(np.array(devices), ("batch",))
        self.sharded = NamedSharding(mesh, PartitionSpec("batch"))
        self.replicated = NamedSharding(mesh, PartitionSpec())
        with jax.default_device(device):
            model = MLP(hp["hidden"], hp["n_features"], hp["n_classes"], rngs=nnx.Rngs(0))
            for i, layer in enumerate(model.dense_layers()):
                layer.kernel.value = jnp.asarray(problem.init_weights[f"w{i}"])  # (in, out)
                layer.bias.value = jnp.asarray(problem.init_weights[f"b{i}"])
            optimizer = nnx.Optimizer(model, optax.adam(hp["lr"]), wrt=nnx.Param)
        self.graphdef, state = nnx.split((model, optimizer))
        self.state = jax.device_put(state, self.replicated)
        # the old state buffers are donated: updated in place, as torch and TF do
        self._train_step = jax.jit(train_step, static_argnums=0, donate_argnums=1)
        self._predict = jax.jit(predict, static_argnums=0)

    def train_step(self, x: jax.Array, y: jax.Array) -> jax.Array:
        x, y = jax.device_put((x, y), self.sharded)
        self.state, loss = self._train_step(self.graphdef, self.state, x, y)
        return loss

    def predict(self, x: jax.Array) -> jax.Array:
        return self._predict(self.graphdef, self.state, jax.device_put(x, self.replicated))

    def weights(self) -> dict[str, np.ndarray]:
        model, _ = nnx.merge(self.graphdef, self.state)
        out = {}
        for i, layer in enumerate(model.dense_layers()):
            out[f"w{i}"] = np.asarray(layer.kernel.value)
            out[f"b{i}"] = np.asarray(layer.bias.value)
        return out


def build(problem, mode: str, device: jax.Device) -> Model:
    return Model(problem, mode, device)
