"""mlp_digits, framework-neutral part: data, initial weights and FLOPs, in NumPy."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from pipeline.contract import Problem

N_FEATURES = 64
N_CLASSES = 10


def layer_sizes(hidden: int) -> list[tuple[int, int]]:
    return [(N_FEATURES, hidden), (hidden, hidden), (hidden, N_CLASSES)]


def init_weights(hidden: int, seed: int) -> dict[str, np.ndarray]:
    """He-uniform kernels (``(in, out)``) and small non-zero biases, the same for every
    framework. The biases come from a stream of their own and differ from each other, so
    a framework that drops or swaps one computes something else (``pipeline check``)."""
    rng = np.random.default_rng(seed)
    bias_rng = np.random.default_rng([seed, 1])
    weights = {}
    for i, (fan_in, fan_out) in enumerate(layer_sizes(hidden)):
        limit = np.sqrt(6.0 / fan_in)
        weights[f"w{i}"] = rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)
        weights[f"b{i}"] = bias_rng.uniform(-0.05, 0.05, fan_out).astype(np.float32)
    return weights


def forward_flops(hidden: int) -> float:
    """Multiply-adds of the three dense layers, counted as 2 FLOPs each."""
    return float(sum(2 * fan_in * fan_out for fan_in, fan_out in layer_sizes(hidden)))


def make_problem(seed: int, hidden: int, batch: int, lr: float) -> Problem:
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)  # pixel values are 0..16
    y = digits.target.astype(np.int32)
    x_train, x_eval, y_train, y_eval = train_test_split(
        x, y, test_size=0.2, random_state=seed, stratify=y
    )
    order = np.random.default_rng(seed).permutation(len(x_train))
    n_batches = len(order) // batch  # drop the ragged tail: one shape only
    if n_batches == 0:
        raise ValueError(f"batch {batch} exceeds the {len(order)} training examples")
    batches = [
        (x_train[idx], y_train[idx])
        for idx in np.split(order[: n_batches * batch], n_batches)
    ]
    per_example = forward_flops(hidden)
    weights = init_weights(hidden, seed)
    return Problem(
        train_batches=batches,
        eval_x=x_eval,
        eval_y=y_eval,
        init_weights=weights,
        hyper={"hidden": hidden, "lr": lr, "n_features": N_FEATURES, "n_classes": N_CLASSES},
        # backward costs about twice the forward pass
        flops_per_train_step=3.0 * per_example * batch,
        flops_per_example_forward=per_example,
        facts={
            "parameters": int(sum(w.size for w in weights.values())),
            "train_examples": int(len(x_train)),
            "eval_examples": int(len(x_eval)),
            "batches_per_epoch": n_batches,
            # baselines the reference text quotes: computed here, never typed by hand
            "majority_accuracy": float(np.bincount(y_eval).max() / len(y_eval)),
            "logistic_regression_accuracy": float(
                LogisticRegression(max_iter=1000).fit(x_train, y_train).score(x_eval, y_eval)),
        },
    )
