"""dynamic_shapes in JAX: a Flax NNX module with jax.nn.dot_product_attention,
Optax SGD, one jax.jit-compiled step.

jax.jit specialises on input shapes: every new batch length is a new trace and a
new XLA compilation, cached for the rest of the process. The step is a pure
function of the split NNX state (Flax's recommended fast path), as in mlp_digits.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx


class AttentionClassifier(nnx.Module):
    def __init__(self, vocab: int, positions: int, embed: int, hidden: int, classes: int,
                 rngs: nnx.Rngs):
        self.embed = nnx.Embed(vocab, embed, rngs=rngs)
        self.pos = nnx.Embed(positions, embed, rngs=rngs)
        self.q = nnx.Linear(embed, embed, rngs=rngs)
        self.k = nnx.Linear(embed, embed, rngs=rngs)
        self.v = nnx.Linear(embed, embed, rngs=rngs)
        self.proj = nnx.Linear(embed, hidden, rngs=rngs)
        self.out = nnx.Linear(hidden, classes, rngs=rngs)

    def __call__(self, tokens: jax.Array, mask: jax.Array) -> jax.Array:
        positions = jnp.arange(tokens.shape[1])  # a static length: jit specialises on it
        x = (self.embed(tokens) + self.pos(positions)) * mask[..., None]  # (B, L, E)

        def heads(t: jax.Array) -> jax.Array:  # one head: (B, L, E) -> (B, L, 1, E)
            return t[:, :, None, :]

        # boolean mask (B, 1, 1, L): True keys take part; default scale 1/sqrt(E)
        a = jax.nn.dot_product_attention(heads(self.q(x)), heads(self.k(x)), heads(self.v(x)),
                                         mask=mask[:, None, None, :] > 0)
        h = nnx.relu(self.proj(a[:, :, 0, :]))  # (B, L, H)
        pooled = jnp.sum(h * mask[..., None], axis=1) / jnp.sum(mask, axis=1, keepdims=True)
        return self.out(pooled)

    def load(self, weights: dict[str, np.ndarray]) -> None:
        # Flax layouts are the canonical ones: embeddings (V, E), kernels (in, out)
        self.embed.embedding.value = jnp.asarray(weights["embed"])
        self.pos.embedding.value = jnp.asarray(weights["pos"])
        for layer, w, b in ((self.q, "wq", "bq"), (self.k, "wk", "bk"), (self.v, "wv", "bv"),
                            (self.proj, "wo", "bo"), (self.out, "out_w", "out_b")):
            layer.kernel.value = jnp.asarray(weights[w])
            layer.bias.value = jnp.asarray(weights[b])


def loss_fn(model: AttentionClassifier, tokens, mask, labels) -> jax.Array:
    logits = model(tokens, mask)
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def train_step(graphdef, state, tokens, mask, labels):
    model, optimizer = nnx.merge(graphdef, state)
    loss, grads = nnx.value_and_grad(loss_fn)(model, tokens, mask, labels)
    optimizer.update(model, grads)
    return nnx.state((model, optimizer)), loss


class Trainer:
    """One fresh model and its optimizer state, committed to the device."""

    def __init__(self, problem, device: jax.Device):
        hp = problem.hyper
        with jax.default_device(device):
            model = AttentionClassifier(hp["vocab"], hp["positions"], hp["embed"], hp["hidden"],
                                        hp["classes"], rngs=nnx.Rngs(0))
            model.load(problem.init_weights)
            # optax.sgd: plain SGD, no momentum
            optimizer = nnx.Optimizer(model, optax.sgd(hp["lr"]), wrt=nnx.Param)
        self.graphdef, state = nnx.split((model, optimizer))
        # committed like the batches, so placement never causes an extra compilation
        self.state = jax.device_put(state, device)
        # a jitted step of its own (a fresh partial, so JAX's caches, keyed on the
        # function, start empty): each case's first pass pays its own compilations,
        # one per distinct batch length, whatever ran before it in the process.
        # The old state buffers are donated: updated in place, as torch and TF do.
        self.step = jax.jit(functools.partial(train_step, self.graphdef), donate_argnums=0)


class Bench:
    def __init__(self, problem, mode: str, device: jax.Device):
        if mode != "jit":
            raise NotImplementedError(f"jax has no mode {mode!r}")
        self.problem, self.device = problem, device
        self.state = None  # the state of the latest case, which the harness's sync waits for

    def _batches(self, case: str) -> list[tuple[jax.Array, ...]]:
        data = self.problem.data
        return [
            tuple(jax.device_put(a, self.device)
                  for a in (data["tokens"][i, :, :n], data["mask"][i, :, :n], data["labels"][i]))
            for i, n in enumerate(data[f"length_{case}"])
        ]

    def operation(self, case: str):
        if case not in self.problem.cases:
            raise NotImplementedError(f"no case {case!r}")
        trainer = Trainer(self.problem, self.device)
        batches = self._batches(case)

        def train_pass() -> jax.Array:
            losses = []
            for tokens, mask, labels in batches:
                trainer.state, loss = trainer.step(trainer.state, tokens, mask, labels)
                losses.append(loss)
            self.state = trainer.state
            return jnp.stack(losses)

        return train_pass


def build(problem, mode: str, device: jax.Device) -> Bench:
    return Bench(problem, mode, device)
