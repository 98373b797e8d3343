"""data_parallel in Keras 3: mlp_digits' Sequential MLP, Adam and ``train_on_batch``
under keras.distribution.DataParallel, which shards each batch over a device mesh and
replicates the weights. Keras 3.x implements its distribution API on the JAX backend
only, so the TensorFlow and PyTorch backends are unsupported here."""

from __future__ import annotations

import keras
import numpy as np


def make_mlp(hidden: int, n_features: int, n_classes: int) -> keras.Sequential:
    return keras.Sequential(
        [
            keras.Input((n_features,)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(n_classes),
        ]
    )


class Model:
    def __init__(self, problem, mode: str, device):
        if mode != keras.backend.backend():
            raise NotImplementedError(f"this process runs Keras on {keras.backend.backend()!r}, not {mode!r}")
        if mode != "jax":
            raise NotImplementedError(f"keras.distribution runs on the JAX backend only, not on {mode!r}")
        hp = problem.hyper
        kind = "gpu" if "cuda" in str(device).lower() or "gpu" in str(device).lower() else "cpu"
        devices = keras.distribution.list_devices(kind)[: hp["replicas"]]
        if len(devices) < hp["replicas"]:
            raise NotImplementedError(f"{hp['replicas']} replicas need {hp['replicas']} {kind} devices; "
                                      f"keras sees {len(devices)}")
        mesh = keras.distribution.DeviceMesh((len(devices),), ["batch"], devices)
        # scoped rather than set for the process, so no other model is distributed by accident
        self.distribution = keras.distribution.DataParallel(device_mesh=mesh)
        with self.distribution.scope(), _placement(device):
            self.net = make_mlp(hp["hidden"], hp["n_features"], hp["n_classes"])
            self.load_weights(problem.init_weights)
            self.net.compile(
                # epsilon as in torch and optax (Keras' default is 1e-7)
                optimizer=keras.optimizers.Adam(learning_rate=hp["lr"], epsilon=1e-8),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            )
            self.net.optimizer.build(self.net.trainable_variables)
        # Keras builds its step functions lazily; made now and kept here so that
        # compile_count can look at them
        with self.distribution.scope():
            self.net.make_train_function()
            self.net.make_predict_function()
        self.functions = {"train": self.net.train_function, "predict": self.net.predict_function}

    def train_step(self, x, y):
        with self.distribution.scope():
            return self.net.train_on_batch(self._shard(x), self._shard(y))

    def predict(self, x):
        with self.distribution.scope():
            return self.net.predict_on_batch(self._shard(x))

    def _shard(self, x):
        """The batch as the distribution lays it out: Keras leaves an array already on one device there."""
        return keras.distribution.distribute_tensor(x, self.distribution.get_data_layout(x.shape))

    def dense_layers(self) -> list[keras.layers.Dense]:
        return [layer for layer in self.net.layers if isinstance(layer, keras.layers.Dense)]

    def load_weights(self, weights: dict[str, np.ndarray]) -> None:
        for i, layer in enumerate(self.dense_layers()):
            layer.kernel.assign(weights[f"w{i}"])  # Keras kernels are (in, out) already
            layer.bias.assign(weights[f"b{i}"])

    def weights(self) -> dict[str, np.ndarray]:
        out = {}
        for i, layer in enumerate(self.dense_layers()):
            out[f"w{i}"] = np.array(keras.ops.convert_to_numpy(layer.kernel))
            out[f"b{i}"] = np.array(keras.ops.convert_to_numpy(layer.bias))
        return out


def _placement(device):
    """keras.device("cpu:0"/"gpu:0") for the device the harness chose."""
    text = str(device).lower().strip("/")
    return keras.device("gpu:0" if "cuda" in text or "gpu" in text else "cpu:0")


def build(problem, mode: str, device) -> Model:
    return Model(problem, mode, device)
