"""mlp_digits in TensorFlow: Keras layers, a GradientTape loop, Keras Adam;
eager, tf.function, or tf.function(jit_compile=True) (XLA)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def make_mlp(hidden: int, n_features: int, n_classes: int) -> tf.keras.Sequential:
    return tf.keras.Sequential(
        [
            tf.keras.Input((n_features,)),
            tf.keras.layers.Dense(hidden, activation="relu"),
            tf.keras.layers.Dense(hidden, activation="relu"),
            tf.keras.layers.Dense(n_classes),
        ]
    )


class Model:
    def __init__(self, problem, mode: str, device: str):
        hp = problem.hyper
        with tf.device(device):
            self.net = make_mlp(hp["hidden"], hp["n_features"], hp["n_classes"])
            self.load_weights(problem.init_weights)
            # epsilon as in torch and optax; created up front, not inside a trace
            self.optimizer = tf.keras.optimizers.Adam(learning_rate=hp["lr"], epsilon=1e-8)
            self.optimizer.build(self.net.trainable_variables)
        if mode == "eager":
            self.train_step, self.predict = self._train_step, self._predict
        elif mode == "function":
            self.train_step = tf.function(self._train_step)
            self.predict = tf.function(self._predict)
        elif mode == "xla":
            self.train_step = tf.function(self._train_step, jit_compile=True)
            self.predict = tf.function(self._predict, jit_compile=True)
        else:
            raise NotImplementedError(f"tensorflow has no mode {mode!r}")

    def _train_step(self, x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            logits = self.net(x, training=True)
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
            )
        variables = self.net.trainable_variables
        grads = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(grads, variables, strict=True))
        return loss

    def _predict(self, x: tf.Tensor) -> tf.Tensor:
        return self.net(x, training=False)

    def dense_layers(self) -> list[tf.keras.layers.Dense]:
        return [layer for layer in self.net.layers if isinstance(layer, tf.keras.layers.Dense)]

    def load_weights(self, weights: dict[str, np.ndarray]) -> None:
        for i, layer in enumerate(self.dense_layers()):
            layer.kernel.assign(weights[f"w{i}"])  # Keras kernels are (in, out) already
            layer.bias.assign(weights[f"b{i}"])

    def weights(self) -> dict[str, np.ndarray]:
        out = {}
        for i, layer in enumerate(self.dense_layers()):
            out[f"w{i}"] = np.array(layer.kernel.numpy())
            out[f"b{i}"] = np.array(layer.bias.numpy())
        return out


def build(problem, mode: str, device: str) -> Model:
    return Model(problem, mode, device)
