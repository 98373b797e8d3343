"""mlp_digits in Keras 3, written once for every backend: a Sequential MLP
compiled with Adam and sparse categorical cross-entropy, trained with
``train_on_batch``; Keras compiles the step with its default (jit_compile="auto":
XLA on TensorFlow and JAX, eager on PyTorch)."""

from __future__ import annotations

import contextlib

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
        hp = problem.hyper
        with _placement(device):
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
        self.net.make_train_function()
        self.net.make_predict_function()
        self.functions = {"train": self.net.train_function, "predict": self.net.predict_function}

    def train_step(self, x, y):
        return self.net.train_on_batch(x, y)

    def predict(self, x):
        return self.net.predict_on_batch(x)

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
    """keras.device("cpu:0"/"gpu:0") for the device the harness chose. Not on the
    torch backend: there (Keras 3.15) variables created inside keras.device are
    non-leaf tensors that never receive gradients; Keras' torch default device,
    CUDA when present, is the harness' choice anyway."""
    if keras.backend.backend() == "torch":
        return contextlib.nullcontext()
    text = str(device).lower().strip("/")
    return keras.device("gpu:0" if "cuda" in text or "gpu" in text else "cpu:0")


def build(problem, mode: str, device) -> Model:
    return Model(problem, mode, device)
