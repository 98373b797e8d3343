"""autodiff_advanced, framework-neutral part: the MLP, its data, the cases and a
float64 reference computed by hand-written backpropagation, in NumPy.

The model is ``features -> hidden -> hidden -> classes`` with tanh activations
(smooth, so the Hessian is not piecewise constant as with ReLU) and softmax
cross-entropy on integer labels. Canonical parameters, in this order:
``w0 (features, hidden), b0, w1 (hidden, hidden), b1, w2 (hidden, classes), b2``;
a "flat" vector concatenates them, each flattened row-major, P numbers in all.

Cases (every output float32, compared normwise: ``max|out - ref| / max|ref|``):

``per_example_grads``
    the gradient of each example's own loss (not divided by the batch size)
    w.r.t. all parameters, vectorised over the batch: output ``(B, P)``.
``per_example_grads_loop``
    the same gradients by a Python loop of single-example gradient calls, slicing
    example i out of the device batch, then stacking the rows: the first
    ``loop_batch`` rows of the above, ``(loop_batch, P)``. The loop is as slow per
    example whatever its length, so a shorter loop keeps eager TensorFlow (tens of
    milliseconds per Keras gradient call) within the time budget while the
    throughput in examples/s stays comparable with the vectorised case.
``hvp``
    the Hessian of the batch-mean loss times the fixed vector ``data["v"]``
    (flat, P numbers): output ``(P,)``.
"""

from __future__ import annotations

import numpy as np

from pipeline.contract import Case, Problem

PARAM_NAMES = ("w0", "b0", "w1", "b1", "w2", "b2")


def layer_sizes(features: int, hidden: int, classes: int) -> list[tuple[int, int]]:
    return [(features, hidden), (hidden, hidden), (hidden, classes)]


def init_weights(features: int, hidden: int, classes: int, seed: int) -> dict[str, np.ndarray]:
    """Glorot-uniform kernels ``(in, out)`` and small random biases: non-zero biases
    keep every parameter's derivatives non-trivial at the evaluation point."""
    rng = np.random.default_rng(seed)
    weights = {}
    for i, (fan_in, fan_out) in enumerate(layer_sizes(features, hidden, classes)):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        weights[f"w{i}"] = rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)
        weights[f"b{i}"] = rng.uniform(-0.1, 0.1, fan_out).astype(np.float32)
    return weights


def flatten(params: dict[str, np.ndarray]) -> np.ndarray:
    return np.concatenate([params[k].reshape(-1) for k in PARAM_NAMES])


def unflatten(flat: np.ndarray, like: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out, start = {}, 0
    for k in PARAM_NAMES:
        size = like[k].size
        out[k] = flat[start : start + size].reshape(like[k].shape)
        start += size
    return out


# -- float64 reference ---------------------------------------------------------


def _forward(p: dict[str, np.ndarray], x: np.ndarray):
    h1 = np.tanh(x @ p["w0"] + p["b0"])
    h2 = np.tanh(h1 @ p["w1"] + p["b1"])
    return h1, h2, h2 @ p["w2"] + p["b2"]


def example_losses(p: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Softmax cross-entropy of each example, ``logsumexp(z) - z[y]``."""
    z = _forward(p, x)[2]
    zmax = z.max(axis=1, keepdims=True)
    lse = zmax[:, 0] + np.log(np.exp(z - zmax).sum(axis=1))
    return lse - z[np.arange(len(y)), y]


def per_example_grads(p: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Analytic backpropagation, one row per example: ``(B, P)`` in the flat order."""
    h1, h2, z = _forward(p, x)
    prob = np.exp(z - z.max(axis=1, keepdims=True))
    prob /= prob.sum(axis=1, keepdims=True)
    dz = prob.copy()
    dz[np.arange(len(y)), y] -= 1.0  # d loss_i / d z_i = softmax - one_hot
    da2 = (dz @ p["w2"].T) * (1.0 - h2**2)  # tanh' = 1 - tanh^2
    da1 = (da2 @ p["w1"].T) * (1.0 - h1**2)
    rows = [
        np.einsum("bi,bo->bio", x, da1), da1,
        np.einsum("bi,bo->bio", h1, da2), da2,
        np.einsum("bi,bo->bio", h2, dz), dz,
    ]
    return np.concatenate([r.reshape(len(x), -1) for r in rows], axis=1)


def mean_grad(flat: np.ndarray, like, x, y) -> np.ndarray:
    return per_example_grads(unflatten(flat, like), x, y).mean(axis=0)


def hvp_central_difference(flat, like, x, y, v, eps: float = 1e-5) -> np.ndarray:
    """``H v ~ (g(theta + eps v) - g(theta - eps v)) / (2 eps)`` with the analytic
    float64 gradient g of the mean loss: truncation error O(eps^2 |g'''|), rounding
    error O(1e-16 / eps), both far below float32 resolution."""
    return (mean_grad(flat + eps * v, like, x, y) - mean_grad(flat - eps * v, like, x, y)) / (2 * eps)


def check_gradients(params, x, y, v, seed: int, coords: int = 24, eps: float = 1e-6) -> float:
    """Cross-checks the analytic backpropagation against central differences of the
    float64 loss: ``coords`` random (example, parameter) entries of the per-example
    gradient, and the directional derivative of the mean loss along v. Returns the
    worst relative error; raises if it exceeds 1e-6 (expected: ~1e-9)."""
    rng = np.random.default_rng(seed + 1)
    flat = flatten(params)
    grads = per_example_grads(params, x, y)
    worst = 0.0
    for _ in range(coords):
        i, j = int(rng.integers(len(x))), int(rng.integers(flat.size))
        step = np.zeros_like(flat)
        step[j] = eps
        up = example_losses(unflatten(flat + step, params), x[i : i + 1], y[i : i + 1])[0]
        down = example_losses(unflatten(flat - step, params), x[i : i + 1], y[i : i + 1])[0]
        fd = (up - down) / (2 * eps)
        worst = max(worst, abs(fd - grads[i, j]) / max(np.abs(grads[i]).max(), 1e-12))
    up = example_losses(unflatten(flat + eps * v, params), x, y).mean()
    down = example_losses(unflatten(flat - eps * v, params), x, y).mean()
    directional = grads.mean(axis=0) @ v
    worst = max(worst, abs((up - down) / (2 * eps) - directional) / max(abs(directional), 1e-12))
    if worst > 1e-6:
        raise AssertionError(f"analytic gradient disagrees with finite differences by {worst:.3g}")
    return float(worst)


# -- the problem ---------------------------------------------------------------


def make_problem(
    seed: int,
    features: int,
    hidden: int,
    classes: int,
    batch: int,
    loop_batch: int,
    repeat: dict[str, int],
) -> Problem:
    """``batch``: examples of the vectorised and HVP cases; ``loop_batch`` (at most
    ``batch``): examples of the loop case; ``repeat``: calls per timed sample of
    each case."""
    if not 0 < loop_batch <= batch:
        raise ValueError(f"loop_batch {loop_batch} must be in 1..batch ({batch})")
    rng = np.random.default_rng(seed)
    weights = init_weights(features, hidden, classes, seed)
    x = rng.standard_normal((batch, features)).astype(np.float32)
    y = rng.integers(0, classes, batch).astype(np.int32)
    n_params = int(sum(w.size for w in weights.values()))
    v = rng.standard_normal(n_params).astype(np.float32)
    # model FLOPs: a gradient is about three forward passes, a Hessian-vector
    # product by forward-over-reverse about two gradients; the Python loop case is
    # one call per example and measures call overhead, so its FLOPs are not counted
    forward = float(sum(2 * i * o for i, o in layer_sizes(features, hidden, classes)))

    cases = {
        "per_example_grads": Case(
            work=batch, unit="examples", repeat=repeat["per_example_grads"], flops=3.0 * forward * batch,
            description=f"(B, P) = ({batch}, {n_params}) per-example gradients, vectorised "
            "(vmap of grad / tape.jacobian)",
        ),
        "per_example_grads_loop": Case(
            work=loop_batch, unit="examples", repeat=repeat["per_example_grads_loop"],
            description=f"the first {loop_batch} of the same per-example gradients by a Python "
            f"loop of {loop_batch} gradient calls",
        ),
        "hvp": Case(
            work=batch, unit="examples", repeat=repeat["hvp"], flops=6.0 * forward * batch,
            description=f"Hessian-vector product of the mean loss over {batch} examples, "
            "forward-over-reverse",
        ),
    }

    # float64 copies for the reference, computed once and cached
    params64 = {k: w.astype(np.float64) for k, w in weights.items()}
    x64, v64 = x.astype(np.float64), v.astype(np.float64)
    cache: dict[str, np.ndarray] = {}

    def reference(case: str) -> np.ndarray:
        if not cache:
            check_gradients(params64, x64, y, v64, seed)
            cache["grads"] = per_example_grads(params64, x64, y)
            cache["hvp"] = hvp_central_difference(flatten(params64), params64, x64, y, v64)
        if case == "hvp":
            return cache["hvp"]
        if case == "per_example_grads_loop":
            return cache["grads"][:loop_batch]
        return cache["grads"]

    return Problem(
        init_weights=weights,
        data={"x": x, "y": y, "v": v},
        cases=cases,
        reference=reference,
        hyper={
            "features": features,
            "hidden": hidden,
            "classes": classes,
            "batch": batch,
            "loop_batch": loop_batch,
        },
        flops_per_example_forward=forward,
        facts={
            "model": f"{features} -> {hidden} -> {hidden} -> {classes}, tanh, softmax cross-entropy",
            "parameters": n_params,
            "batch": batch,
            "loop batch": loop_batch,
            "reference": "float64 analytic backprop, checked by central differences; "
            "HVP by central differences of the analytic gradient",
        },
    )
