"""cnn_cifar, framework-neutral part: data, augmentation draws, initial weights
and FLOPs, in NumPy.

The network (the same in every implementation)::

    stem   3x3 conv, 3 -> widths[0], stride 1, + bias, ReLU
    block  for each stage s (width widths[s], stride 1 for s == 0 else 2):
               h   = ReLU(conv3x3(x, stride) + b1)
               h   = conv3x3(h, 1) + b2
               out = ReLU(h + shortcut(x))
           shortcut = identity, or a 1x1 conv with the stage's stride (+ bias)
           where the shape changes ("projection shortcut")
    head   global average pool, dense widths[-1] -> 10

No normalisation layer: BatchNorm's running-statistics momentum and epsilon
conventions differ between the frameworks, and a plain ResNet this shallow trains
well without one when the residual branch starts small (see ``init_weights``).

Padding is explicit and symmetric: 1 pixel on every side for 3x3 convolutions,
none for the 1x1 projection. (``"SAME"`` with stride 2 pads (0, 1) in TF/JAX but
torch pads (1, 1); explicit padding makes them agree.)

Canonical weight layout (what ``Problem.init_weights`` holds and ``weights()``
returns), by name:

    stem.kernel (3, 3, 3, w0)      stem.bias (w0,)
    block{s}.conv1.kernel (3, 3, cin, cout)   block{s}.conv1.bias (cout,)
    block{s}.conv2.kernel (3, 3, cout, cout)  block{s}.conv2.bias (cout,)
    block{s}.proj.kernel (1, 1, cin, cout)    block{s}.proj.bias (cout,)  [if projected]
    head.kernel (w_last, 10)       head.bias (10,)

Convolution kernels are (kh, kw, in, out), dense kernels (in, out).

Training batches are ``(x, y, crop, flip)``: ``x`` float32 NHWC images, ``y``
int32 labels, ``crop`` int32 (B, 2) offsets (dy, dx) in [0, 2 * PAD] and ``flip``
int32 (B,) 0/1. Each implementation augments on the device inside its step, in
this order: zero-pad PAD pixels on each side, take the 32x32 window at (dy, dx),
then mirror left-right where ``flip`` is 1. This is pure data movement, so every
framework trains on bit-identical augmented images.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from pipeline.contract import Problem

SIZE = 32
CHANNELS = 3
N_CLASSES = 10
PAD = 4  # random crop: pad 4, crop 32 (the standard CIFAR recipe)


def stages(widths: list[int]) -> list[tuple[int, int, int]]:
    """(in, out, stride) of each residual block."""
    out, cin = [], widths[0]
    for s, width in enumerate(widths):
        out.append((cin, width, 1 if s == 0 else 2))
        cin = width
    return out


def has_projection(cin: int, cout: int, stride: int) -> bool:
    return stride != 1 or cin != cout


def weight_shapes(widths: list[int]) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {
        "stem.kernel": (3, 3, CHANNELS, widths[0]),
        "stem.bias": (widths[0],),
    }
    for s, (cin, cout, stride) in enumerate(stages(widths)):
        shapes[f"block{s}.conv1.kernel"] = (3, 3, cin, cout)
        shapes[f"block{s}.conv1.bias"] = (cout,)
        shapes[f"block{s}.conv2.kernel"] = (3, 3, cout, cout)
        shapes[f"block{s}.conv2.bias"] = (cout,)
        if has_projection(cin, cout, stride):
            shapes[f"block{s}.proj.kernel"] = (1, 1, cin, cout)
            shapes[f"block{s}.proj.bias"] = (cout,)
    shapes["head.kernel"] = (widths[-1], N_CLASSES)
    shapes["head.bias"] = (N_CLASSES,)
    return shapes


def init_weights(widths: list[int], seed: int) -> dict[str, np.ndarray]:
    """He-normal kernels and small non-zero biases (N(0, 0.01), from a stream of their
    own, so that a dropped or swapped bias changes the result), the same for every framework.

    The last conv of each residual branch starts at a quarter of the He scale
    (in the spirit of Fixup/SkipInit): without normalisation, each block then
    adds a small correction to its shortcut and the activations do not grow
    block after block. The head uses a LeCun-normal (1/fan_in) scale.
    """
    rng = np.random.default_rng(seed)
    bias_rng = np.random.default_rng([seed, 1])
    weights = {}
    for name, shape in weight_shapes(widths).items():
        if name.endswith(".bias"):
            weights[name] = (0.01 * bias_rng.standard_normal(shape)).astype(np.float32)
            continue
        fan_in = int(np.prod(shape[:-1]))
        std = np.sqrt((1.0 if name == "head.kernel" else 2.0) / fan_in)
        if name.endswith("conv2.kernel"):
            std *= 0.25
        weights[name] = (rng.standard_normal(shape) * std).astype(np.float32)
    return weights


def forward_flops(widths: list[int]) -> float:
    """Multiply-adds of the convolutions and the head, 2 FLOPs each, for one image
    (ReLU, additions and pooling are negligible and not counted)."""
    flops, hw = 0.0, SIZE
    flops += 2 * hw * hw * 9 * CHANNELS * widths[0]
    for cin, cout, stride in stages(widths):
        out_hw = hw // stride
        flops += 2 * out_hw * out_hw * 9 * cin * cout  # conv1
        flops += 2 * out_hw * out_hw * 9 * cout * cout  # conv2
        if has_projection(cin, cout, stride):
            flops += 2 * out_hw * out_hw * cin * cout
        hw = out_hw
    flops += 2 * widths[-1] * N_CLASSES
    return float(flops)


def synthetic_images(rng: np.random.Generator, n: int, noise: float
                     ) -> tuple[np.ndarray, np.ndarray, np.random.Generator]:
    """Class-dependent images: each class is a fixed sum of a few low-frequency
    plane waves per channel (a smooth texture), shown with a random contrast and
    a random shift of its phase, plus white noise. Shifts and mirroring keep the
    frequencies, so the crop/flip augmentation preserves the class."""
    templates_rng = np.random.default_rng(12345)  # the classes themselves never change
    v, u = np.meshgrid(np.arange(SIZE), np.arange(SIZE), indexing="ij")
    waves = templates_rng.integers(1, 5, (N_CLASSES, CHANNELS, 3, 2))  # cycles per image
    amps = templates_rng.uniform(0.5, 1.0, (N_CLASSES, CHANNELS, 3))
    y = rng.integers(0, N_CLASSES, n).astype(np.int32)
    phase = rng.uniform(0, 2 * np.pi, (n, CHANNELS, 3))
    x = np.zeros((n, SIZE, SIZE, CHANNELS), np.float32)
    for c in range(CHANNELS):
        for j in range(3):
            fy, fx = waves[y, c, j, 0], waves[y, c, j, 1]
            arg = 2 * np.pi * (fy[:, None, None] * v + fx[:, None, None] * u) / SIZE
            x[..., c] += amps[y, c, j][:, None, None] * np.sin(arg + phase[:, c, j][:, None, None])
    x *= rng.uniform(0.5, 1.5, (n, 1, 1, 1)).astype(np.float32)
    x += noise * rng.standard_normal(x.shape).astype(np.float32)
    return x, y, rng


def load_cifar(folder: str, n_train: int, n_eval: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The first ``n_train`` training and ``n_eval`` test images of a local copy of
    CIFAR-10 (the python-pickle batches), as NHWC float32 in [0, 1]."""

    def read(names: list[str], n: int) -> tuple[np.ndarray, np.ndarray]:
        xs, ys, have = [], [], 0
        for name in names:
            if have >= n:
                break
            with open(Path(folder) / name, "rb") as fh:
                entry = pickle.load(fh, encoding="bytes")
            xs.append(np.asarray(entry[b"data"], np.uint8))
            ys.append(np.asarray(entry[b"labels"], np.int32))
            have += len(ys[-1])
        if have < n:
            raise ValueError(f"{folder} holds {have} images in {names}, fewer than {n}")
        x = np.concatenate(xs)[:n].reshape(n, CHANNELS, SIZE, SIZE).transpose(0, 2, 3, 1)
        return x.astype(np.float32) / 255.0, np.concatenate(ys)[:n]

    x_train, y_train = read([f"data_batch_{i}" for i in range(1, 6)], n_train)
    x_eval, y_eval = read(["test_batch"], n_eval)
    return x_train, y_train, x_eval, y_eval


def make_problem(seed: int, n_train: int, n_eval: int, batch: int, widths: list[int],
                 lr: float, momentum: float, noise: float = 0.5,
                 cifar_dir: str | None = None) -> Problem:
    rng = np.random.default_rng(seed)
    if cifar_dir:
        x_train, y_train, x_eval, y_eval = load_cifar(cifar_dir, n_train, n_eval)
        source = f"CIFAR-10 (local copy; first {n_train} training and {n_eval} test images)"
    else:
        x_all, y_all, rng = synthetic_images(rng, n_train + n_eval, noise)
        x_train, y_train = x_all[:n_train], y_all[:n_train]
        x_eval, y_eval = x_all[n_train:], y_all[n_train:]
        source = (f"synthetic CIFAR-shaped images (per-class low-frequency textures plus "
                  f"noise, std {noise}), generated from the seed")
    # per-channel standardisation with the training set's statistics
    mean = x_train.mean(axis=(0, 1, 2), dtype=np.float64)
    std = x_train.std(axis=(0, 1, 2), dtype=np.float64)
    x_train = ((x_train - mean) / std).astype(np.float32)
    x_eval = ((x_eval - mean) / std).astype(np.float32)

    n_batches = n_train // batch  # drop the ragged tail: one shape only
    if n_batches == 0:
        raise ValueError(f"batch {batch} exceeds the {n_train} training examples")
    order = rng.permutation(n_train)
    batches = []
    for idx in np.split(order[: n_batches * batch], n_batches):
        crop = rng.integers(0, 2 * PAD + 1, (batch, 2)).astype(np.int32)  # (dy, dx)
        flip = rng.integers(0, 2, batch).astype(np.int32)
        batches.append((x_train[idx], y_train[idx], crop, flip))

    widths = [int(w) for w in widths]
    weights = init_weights(widths, seed)
    per_example = forward_flops(widths)
    return Problem(
        train_batches=batches,
        eval_x=x_eval,
        eval_y=y_eval,
        init_weights=weights,
        hyper={"widths": widths, "lr": lr, "momentum": momentum, "pad": PAD,
               "n_classes": N_CLASSES, "precision": "fp32"},
        # backward costs about twice the forward pass
        flops_per_train_step=3.0 * per_example * batch,
        flops_per_example_forward=per_example,
        facts={
            "data": source,
            "parameters": int(sum(w.size for w in weights.values())),
            "widths": widths,
            "residual_blocks": len(widths),
            "normalisation": "none (residual branches start small instead)",
            "augmentation": f"pad {PAD} + random 32x32 crop + horizontal flip, on the device",
            "optimizer": f"SGD, lr {lr}, momentum {momentum} (heavy ball, no weight decay)",
            "train_examples": int(n_train),
            "eval_examples": int(len(y_eval)),
            "batches_per_epoch": n_batches,
            # baselines the reference text quotes: computed here, never typed by hand
            "chance_accuracy": 1.0 / N_CLASSES,
            "majority_accuracy": float(np.bincount(y_eval, minlength=N_CLASSES).max() / len(y_eval)),
        },
    )
