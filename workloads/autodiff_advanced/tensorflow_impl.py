"""autodiff_advanced in TensorFlow: a Keras MLP and GradientTape; eager,
tf.function, or tf.function(jit_compile=True) (XLA).

* per-example gradients: ``tape.jacobian`` of the vector of per-example losses
  w.r.t. the variables, which TF vectorises with its pfor converter (the
  documented way to get per-example gradients);
* loop: B GradientTape gradients of single-example losses;
* HVP: ``tf.autodiff.ForwardAccumulator`` around a ``GradientTape``,
  forward-over-reverse as in JAX.
"""

from __future__ import annotations

import tensorflow as tf


def make_mlp(features: int, hidden: int, classes: int) -> tf.keras.Sequential:
    return tf.keras.Sequential(
        [
            tf.keras.Input((features,)),
            tf.keras.layers.Dense(hidden, activation="tanh"),
            tf.keras.layers.Dense(hidden, activation="tanh"),
            tf.keras.layers.Dense(classes),
        ]
    )


def flat_batched(grads: list[tf.Tensor], batch: int) -> tf.Tensor:
    """``(B, P)``: Keras kernels are (in, out) already, and trainable_variables
    come in the canonical order w0, b0, w1, b1, w2, b2."""
    return tf.concat([tf.reshape(g, (batch, -1)) for g in grads], axis=1)


def flat(grads: list[tf.Tensor]) -> tf.Tensor:
    return tf.concat([tf.reshape(g, (-1,)) for g in grads], axis=0)


class Bench:
    def __init__(self, problem, mode: str, device: str):
        hp, w = problem.hyper, problem.init_weights
        self.problem, self.device = problem, device
        with tf.device(device):
            self.net = make_mlp(hp["features"], hp["hidden"], hp["classes"])
            for i, layer in enumerate(self.net.layers):
                layer.kernel.assign(w[f"w{i}"])
                layer.bias.assign(w[f"b{i}"])
        # the tf.Variables under the Keras 3 variables: ForwardAccumulator (unlike
        # GradientTape) only understands TensorFlow's own variables
        self.variables = [var.value for var in self.net.trainable_variables]
        fns = {
            "per_example": self._per_example,
            "grad_one": self._grad_one,
            "hvp": self._hvp,
        }
        # kept in a dict attribute so the harness counts their traces
        if mode == "eager":
            self.fns = fns
        elif mode == "function":
            self.fns = {k: tf.function(f) for k, f in fns.items()}
        elif mode == "xla":
            self.fns = {k: tf.function(f, jit_compile=True) for k, f in fns.items()}
        else:
            raise NotImplementedError(f"tensorflow has no mode {mode!r}")

    def _losses(self, x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        logits = self.net(x, training=False)
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)

    def _per_example(self, x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            losses = self._losses(x, y)  # (B,): example i's loss depends on example i only
        # jacobian of (B,) w.r.t. each variable: (B, *variable.shape), vectorised by pfor
        return flat_batched(tape.jacobian(losses, self.variables), tf.shape(x)[0])

    def _grad_one(self, x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(self._losses(x, y))
        return flat(tape.gradient(loss, self.variables))

    def _hvp(self, x: tf.Tensor, y: tf.Tensor, v: list[tf.Tensor]) -> tf.Tensor:
        # the accumulator pushes v forward through the gradient computation itself
        with tf.autodiff.ForwardAccumulator(self.variables, v) as acc:
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(self._losses(x, y))
            grads = tape.gradient(loss, self.variables)
        return flat(acc.jvp(grads))

    def operation(self, case: str):
        data = self.problem.data
        with tf.device(self.device):
            # tf.constant stays in host memory; tf.identity copies it to the device
            x, y = tf.identity(tf.constant(data["x"])), tf.identity(tf.constant(data["y"]))
            if case == "per_example_grads":
                fn = self.fns["per_example"]
                return lambda: fn(x, y)
            if case == "hvp":
                # the flat canonical v split into variable-shaped tangents
                sizes = [int(tf.size(var)) for var in self.variables]
                parts = tf.split(tf.identity(tf.constant(data["v"])), sizes)
                v = [tf.reshape(p, var.shape) for p, var in zip(parts, self.variables, strict=True)]
                fn = self.fns["hvp"]
                return lambda: fn(x, y, v)
            if case == "per_example_grads_loop":
                fn, loop_batch = self.fns["grad_one"], self.problem.hyper["loop_batch"]

                def loop() -> tf.Tensor:
                    return tf.stack([fn(x[i : i + 1], y[i : i + 1]) for i in range(loop_batch)])

                return loop
        raise NotImplementedError(f"unknown case {case!r}")


def build(problem, mode: str, device: str) -> Bench:
    return Bench(problem, mode, device)
