"""dynamic_shapes in TensorFlow: Keras layers and tf ops for the attention, a
GradientTape step, Keras SGD;
eager, tf.function, or tf.function(jit_compile=True) (XLA).

tf.function runs with its defaults: every new input shape is a new trace (and,
with jit_compile=True, a new XLA compilation). tf.function(reduce_retracing=True)
would instead generalise to a (None, None) signature after a few shapes -- a
non-default opt-in, so it is not what is measured here; an input_signature with
None lengths would do the same up front (with XLA still compiling per shape).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


class AttentionClassifier(tf.keras.Model):
    def __init__(self, vocab: int, positions: int, embed: int, hidden: int, classes: int):
        super().__init__()
        self.embed = tf.keras.layers.Embedding(vocab, embed)
        self.pos = tf.keras.layers.Embedding(positions, embed)
        self.q, self.k, self.v = (tf.keras.layers.Dense(embed) for _ in range(3))
        self.proj = tf.keras.layers.Dense(hidden, activation="relu")
        self.out = tf.keras.layers.Dense(classes)
        self.scale = 1.0 / float(np.sqrt(embed))
        for layer in (self.embed, self.pos):
            layer.build((None, None))
        for layer in (self.q, self.k, self.v, self.proj):
            layer.build((None, None, embed))
        self.out.build((None, hidden))

    def call(self, tokens: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
        positions = tf.range(tf.shape(tokens)[1])
        x = (self.embed(tokens) + self.pos(positions)) * mask[..., None]  # (B, L, E)
        scores = tf.matmul(self.q(x), self.k(x), transpose_b=True) * self.scale  # (B, L, L)
        # keys past the valid length: a large negative logit, exp() underflows to exactly 0
        scores += (mask[:, None, :] - 1.0) * 1e9
        a = tf.matmul(tf.nn.softmax(scores, axis=-1), self.v(x))
        h = self.proj(a)  # (B, L, H)
        pooled = tf.reduce_sum(h * mask[..., None], axis=1) / tf.reduce_sum(mask, 1, keepdims=True)
        return self.out(pooled)

    def load(self, weights: dict[str, np.ndarray]) -> None:
        # Keras layouts are the canonical ones: embeddings (V, E), kernels (in, out)
        self.embed.embeddings.assign(weights["embed"])
        self.pos.embeddings.assign(weights["pos"])
        for layer, w, b in ((self.q, "wq", "bq"), (self.k, "wk", "bk"), (self.v, "wv", "bv"),
                            (self.proj, "wo", "bo"), (self.out, "out_w", "out_b")):
            layer.kernel.assign(weights[w])
            layer.bias.assign(weights[b])


class Trainer:
    """One fresh model and its SGD optimizer; ``step`` is one SGD step on one batch."""

    def __init__(self, problem, device: str):
        hp = problem.hyper
        with tf.device(device):
            self.net = AttentionClassifier(hp["vocab"], hp["positions"], hp["embed"],
                                           hp["hidden"], hp["classes"])
            self.net.load(problem.init_weights)
            # plain SGD (momentum 0), built up front rather than inside a trace
            self.optimizer = tf.keras.optimizers.SGD(learning_rate=hp["lr"])
            self.optimizer.build(self.net.trainable_variables)

    def step(self, tokens: tf.Tensor, mask: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            logits = self.net(tokens, mask, training=True)
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
            )
        variables = self.net.trainable_variables
        # the embeddings' gradients are IndexedSlices: SGD updates only the rows seen
        grads = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(grads, variables, strict=True))
        return loss


class Bench:
    def __init__(self, problem, mode: str, device: str):
        if mode not in ("eager", "function", "xla"):
            raise NotImplementedError(f"tensorflow has no mode {mode!r}")
        self.problem, self.mode, self.device = problem, mode, device
        # the traced step of each case, where compile_count finds them
        self.functions: dict[str, tf.types.experimental.PolymorphicFunction] = {}

    def _batches(self, case: str) -> list[tuple[tf.Tensor, ...]]:
        data = self.problem.data
        with tf.device(self.device):
            return [
                (tf.identity(data["tokens"][i, :, :n]), tf.identity(data["mask"][i, :, :n]),
                 tf.identity(data["labels"][i]))
                for i, n in enumerate(data[f"length_{case}"])
            ]

    def operation(self, case: str):
        if case not in self.problem.cases:
            raise NotImplementedError(f"no case {case!r}")
        trainer = Trainer(self.problem, self.device)
        if self.mode == "eager":
            step = trainer.step
        else:
            step = tf.function(trainer.step, jit_compile=self.mode == "xla")
            self.functions[case] = step
        batches = self._batches(case)

        def train_pass() -> tf.Tensor:
            return tf.stack([step(*batch) for batch in batches])

        return train_pass


def build(problem, mode: str, device: str) -> Bench:
    return Bench(problem, mode, device)
