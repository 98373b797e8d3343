"""cnn_cifar in TensorFlow: Keras layers driven by a GradientTape loop, Keras SGD
with momentum, augmentation with tf.gather on the device; eager, tf.function, or
tf.function(jit_compile=True) (XLA); bf16 through the "mixed_bfloat16" dtype
policy. See workload.py for the architecture and the canonical layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

layers = tf.keras.layers


def conv(filters: int, size: int, stride: int, policy: str, name: str) -> list[layers.Layer]:
    """A convolution padded like torch: symmetric, 1 pixel for 3x3. ("same" with
    stride 2 would pad (0, 1) on 32 pixels; stride 1 "same" is symmetric.)"""
    if size == 1 or stride == 1:
        return [layers.Conv2D(filters, size, stride, padding="same", dtype=policy, name=name)]
    return [layers.ZeroPadding2D(1, dtype=policy),
            layers.Conv2D(filters, size, stride, padding="valid", dtype=policy, name=name)]


class Block(tf.keras.layers.Layer):
    def __init__(self, cin: int, cout: int, stride: int, policy: str, **kwargs):
        super().__init__(dtype=policy, **kwargs)
        self.conv1 = conv(cout, 3, stride, policy, "conv1")
        self.conv2 = conv(cout, 3, 1, policy, "conv2")
        self.proj = conv(cout, 1, stride, policy, "proj") if stride != 1 or cin != cout else None

    def call(self, x: tf.Tensor) -> tf.Tensor:
        h = x
        for layer in self.conv1:
            h = layer(h)
        h = tf.nn.relu(h)
        for layer in self.conv2:
            h = layer(h)
        shortcut = x if self.proj is None else self.proj[0](x)
        return tf.nn.relu(h + shortcut)

    def named_layers(self, prefix: str) -> dict[str, layers.Layer]:
        out = {f"{prefix}.conv1": self.conv1[-1], f"{prefix}.conv2": self.conv2[-1]}
        if self.proj is not None:
            out[f"{prefix}.proj"] = self.proj[0]
        return out


def make_resnet(widths: list[int], n_classes: int, policy: str) -> tuple[tf.keras.Model, dict]:
    """A functional Keras model (NHWC, TF's native layout) and its weighted layers
    by canonical name."""
    inputs = tf.keras.Input((32, 32, 3))
    stem = layers.Conv2D(widths[0], 3, padding="same", activation="relu", dtype=policy, name="stem")
    x = stem(inputs)
    named = {"stem": stem}
    cin = widths[0]
    for s, width in enumerate(widths):
        block = Block(cin, width, 1 if s == 0 else 2, policy, name=f"block{s}")
        x = block(x)
        named.update(block.named_layers(f"block{s}"))
        cin = width
    x = layers.GlobalAveragePooling2D(dtype=policy)(x)
    head = layers.Dense(n_classes, dtype=policy, name="head")
    named["head"] = head
    return tf.keras.Model(inputs, head(x)), named


def augment(x: tf.Tensor, crop: tf.Tensor, flip: tf.Tensor, pad: int) -> tf.Tensor:
    """Zero-pad, crop each image at its own (dy, dx), mirror where flip == 1:
    two batched gathers (rows, then columns read right to left when flipped)."""
    size = x.shape[1]
    padded = tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
    ar = tf.range(size, dtype=crop.dtype)
    rows = crop[:, :1] + ar
    cols = crop[:, 1:] + tf.where(flip[:, None] == 1, ar[::-1], ar)
    x = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(x, cols, axis=2, batch_dims=1)


class Model:
    def __init__(self, problem, mode: str, device: str):
        hp = problem.hyper
        self.pad = hp["pad"]
        self.names = list(problem.init_weights)
        # mixed_bfloat16: variables in fp32, layer maths in bf16 (no loss scaling
        # needed: bf16 has fp32's exponent range)
        policy = "mixed_bfloat16" if hp.get("precision", "fp32") == "bf16" else "float32"
        with tf.device(device):
            self.net, self.layers = make_resnet(hp["widths"], hp["n_classes"], policy)
            self.load_weights(problem.init_weights)
            # Keras momentum: m = mu * m - lr * g; p += m, which is torch's
            # v = mu * v + g; p -= lr * v with m = -lr * v for a constant lr
            self.optimizer = tf.keras.optimizers.SGD(learning_rate=hp["lr"], momentum=hp["momentum"])
            self.optimizer.build(self.net.trainable_variables)  # not inside a trace
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

    def _train_step(self, x, y, crop, flip) -> tf.Tensor:
        x = augment(x, crop, flip, self.pad)
        with tf.GradientTape() as tape:
            logits = tf.cast(self.net(x, training=True), tf.float32)
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
            )
        variables = self.net.trainable_variables
        grads = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(grads, variables, strict=True))
        return loss

    def _predict(self, x: tf.Tensor) -> tf.Tensor:
        return tf.cast(self.net(x, training=False), tf.float32)

    def load_weights(self, weights: dict[str, np.ndarray]) -> None:
        for name, value in weights.items():
            layer, kind = name.rsplit(".", 1)
            # Keras kernels are (kh, kw, in, out) and (in, out) already
            getattr(self.layers[layer], kind).assign(value)

    def weights(self) -> dict[str, np.ndarray]:
        out = {}
        for name in self.names:
            layer, kind = name.rsplit(".", 1)
            out[name] = np.array(getattr(self.layers[layer], kind).numpy())
        return out

    def _checkpoint(self) -> tf.train.Checkpoint:
        return tf.train.Checkpoint(model=self.net, optimizer=self.optimizer)

    def save(self, directory: str) -> None:
        self._checkpoint().write(str(Path(directory) / "ckpt"))

    def restore(self, directory: str) -> None:
        self._checkpoint().read(str(Path(directory) / "ckpt")).assert_consumed()


def build(problem, mode: str, device: str) -> Model:
    return Model(problem, mode, device)
