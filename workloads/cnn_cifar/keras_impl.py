"""cnn_cifar in Keras 3, written once for every backend (keras.ops and Keras
layers only): a functional ResNet, compiled with SGD with momentum and sparse
categorical cross-entropy, trained with ``train_on_batch``. The augmentation is
a layer in front of the network that reads the shared crop/flip draws as extra
model inputs, so Keras' own compiled train step runs it on the device.
bf16 uses the "mixed_bfloat16" dtype policy per layer (variables fp32).
See workload.py for the architecture and the canonical layout."""

from __future__ import annotations

import contextlib
from pathlib import Path

import keras
import numpy as np
from keras import layers, ops


class CropFlip(layers.Layer):
    """Zero-pad, take each image's window at its (dy, dx), mirror where flip == 1:
    one gather from the flattened padded batch (works alike on every backend)."""

    def __init__(self, pad: int, **kwargs):
        super().__init__(**kwargs)
        self.pad = pad

    def call(self, images, crop, flip):
        b, h, w, c = ops.shape(images)
        p = self.pad
        padded = ops.pad(images, [[0, 0], [p, p], [p, p], [0, 0]])
        hp, wp = h + 2 * p, w + 2 * p
        crop, flip = ops.cast(crop, "int32"), ops.cast(flip, "int32")
        ar_h, ar_w = ops.arange(h, dtype="int32"), ops.arange(w, dtype="int32")
        rows = crop[:, :1] + ar_h  # (B, H)
        # mirroring is reading the window's columns right to left
        cols = crop[:, 1:] + ops.where(ops.expand_dims(flip, 1) == 1, ops.flip(ar_w, 0), ar_w)
        batch = ops.arange(b, dtype="int32")[:, None, None]
        index = (batch * hp + rows[:, :, None]) * wp + cols[:, None, :]  # (B, H, W)
        return ops.take(ops.reshape(padded, (-1, c)), index, axis=0)

    def get_config(self):
        return {**super().get_config(), "pad": self.pad}


def conv(x, filters: int, size: int, stride: int, policy: str, name: str):
    """A convolution padded like torch: symmetric, 1 pixel for 3x3. ("same" with
    stride 2 would pad (0, 1) on TF and JAX; stride 1 "same" is symmetric.)"""
    if size == 3 and stride != 1:
        x = layers.ZeroPadding2D(1, dtype=policy)(x)
        return layers.Conv2D(filters, size, stride, padding="valid", dtype=policy, name=name)(x)
    return layers.Conv2D(filters, size, stride, padding="same", dtype=policy, name=name)(x)


def make_resnet(widths: list[int], n_classes: int, policy: str) -> keras.Model:
    inputs = keras.Input((32, 32, 3), name="images")
    x = layers.ReLU(dtype=policy)(conv(inputs, widths[0], 3, 1, policy, "stem"))
    cin = widths[0]
    for s, width in enumerate(widths):
        stride = 1 if s == 0 else 2
        h = layers.ReLU(dtype=policy)(conv(x, width, 3, stride, policy, f"block{s}_conv1"))
        h = conv(h, width, 3, 1, policy, f"block{s}_conv2")
        if stride != 1 or cin != width:  # projection shortcut
            x = conv(x, width, 1, stride, policy, f"block{s}_proj")
        x = layers.ReLU(dtype=policy)(layers.Add(dtype=policy)([h, x]))
        cin = width
    x = layers.GlobalAveragePooling2D(dtype=policy)(x)
    logits = layers.Dense(n_classes, dtype=policy, name="head")(x)
    # the usual mixed-precision advice: hand fp32 logits to softmax and the loss
    logits = layers.Activation("linear", dtype="float32")(logits)
    return keras.Model(inputs, logits, name="resnet")


class Model:
    def __init__(self, problem, mode: str, device):
        if mode != keras.backend.backend():
            raise NotImplementedError(f"this process runs Keras on {keras.backend.backend()!r}, not {mode!r}")
        hp = problem.hyper
        self.names = list(problem.init_weights)
        policy = "mixed_bfloat16" if hp.get("precision", "fp32") == "bf16" else "float32"
        with _placement(device):
            self.net = make_resnet(hp["widths"], hp["n_classes"], policy)
            self.load_weights(problem.init_weights)
            images = keras.Input((32, 32, 3), name="images")
            crop = keras.Input((2,), dtype="int32", name="crop")
            flip = keras.Input((), dtype="int32", name="flip")
            augmented = CropFlip(hp["pad"], name="crop_flip")(images, crop, flip)
            self.trainer = keras.Model([images, crop, flip], self.net(augmented), name="trainer")
            # Keras momentum: m = mu * m - lr * g; p += m, which is torch's
            # v = mu * v + g; p -= lr * v with m = -lr * v for a constant lr
            self.trainer.compile(
                optimizer=keras.optimizers.SGD(learning_rate=hp["lr"], momentum=hp["momentum"]),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            )
            self.trainer.optimizer.build(self.trainer.trainable_variables)
            self.net.compile()  # predict_on_batch: the backend's compiled predict step
        # Keras builds its step functions lazily; made now and kept here so that
        # compile_count finds them (tf.functions on the TensorFlow backend)
        self.trainer.make_train_function()
        self.net.make_predict_function()
        self.functions = {"train": self.trainer.train_function, "predict": self.net.predict_function}

    def train_step(self, x, y, crop, flip):
        return self.trainer.train_on_batch([x, crop, flip], y)

    def predict(self, x):
        return self.net.predict_on_batch(x)

    def layer_weight(self, name: str):
        layer, kind = name.rsplit(".", 1)
        return getattr(self.net.get_layer(layer.replace(".", "_")), kind)

    def load_weights(self, weights: dict[str, np.ndarray]) -> None:
        for name, value in weights.items():
            # Keras kernels are (kh, kw, in, out) and (in, out) already
            self.layer_weight(name).assign(value)

    def weights(self) -> dict[str, np.ndarray]:
        return {name: np.array(keras.ops.convert_to_numpy(self.layer_weight(name)))
                for name in self.names}

    def save(self, directory: str) -> None:
        # the trainer's weights file holds the network's and the optimizer's variables
        self.trainer.save_weights(Path(directory) / "trainer.weights.h5")

    def restore(self, directory: str) -> None:
        self.trainer.load_weights(Path(directory) / "trainer.weights.h5")


def _placement(device):
    """keras.device("cpu:0"/"gpu:0") for the device the harness chose. Not on the
    torch backend: there (Keras 3.15) variables created inside keras.device are
    non-leaf tensors that never receive gradients; Keras' torch default device,
    CUDA when present, is the harness' choice anyway."""
    if keras.backend.backend() == "torch":
        return contextlib.nullcontext()
    text = str(device).lower().strip("/")
    return keras.device("gpu:0" if "cuda" in text or "gpu" in text else "cpu:0")


def build(problem, mode: str, device):
    return Model(problem, mode, device)
