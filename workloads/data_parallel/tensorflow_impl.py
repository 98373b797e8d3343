"""data_parallel in TensorFlow: mlp_digits' Keras layers, GradientTape loop and Keras
Adam under tf.distribute.MirroredStrategy, one replica per device; eager or tf.function.
Each replica takes its shard of the global batch and scales its loss by the global
batch, and the optimizer sums the replicas' gradients."""

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
        kind = device.strip("/").split(":")[0]
        devices = [d.name for d in tf.config.list_logical_devices(kind)][: hp["replicas"]]
        if len(devices) < hp["replicas"]:
            raise NotImplementedError(f"{hp['replicas']} replicas need {hp['replicas']} {kind} devices; "
                                      f"tensorflow sees {len(devices)}")
        self.strategy = tf.distribute.MirroredStrategy(devices)
        self.global_batch = problem.batch_size
        with self.strategy.scope():
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
            # tried: XLA compiles for one device and stops at the first mirrored variable
            # on another ("Trying to access resource ... located in device CPU:1")
            raise NotImplementedError("tf.function(jit_compile=True) compiles for one device; MirroredStrategy's "
                                      "variables live on every replica's device (XLA's known issue: a "
                                      "tf.Variable on a different device)")
        else:
            raise NotImplementedError(f"tensorflow has no mode {mode!r}")

    def _train_step(self, x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        losses = self.strategy.run(self._replica_step, args=(x, y))
        return self.strategy.reduce(tf.distribute.ReduceOp.SUM, losses, axis=None)

    def _replica_step(self, x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        shard = self.global_batch // self.strategy.num_replicas_in_sync
        start = tf.distribute.get_replica_context().replica_id_in_sync_group * shard
        x, y = x[start:start + shard], y[start:start + shard]
        with tf.GradientTape() as tape:
            logits = self.net(x, training=True)
            loss = tf.nn.compute_average_loss(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits),
                global_batch_size=self.global_batch,
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
