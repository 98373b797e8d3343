"""transformer_lm in JAX: Flax NNX modules (nnx.MultiHeadAttention, causal), Optax
AdamW, one jax.jit-compiled step; fp32, or dtype=bfloat16 compute with fp32 params.

The step is a pure function of the split NNX state (Flax's recommended fast path),
so the Python overhead of walking the module graph stays outside the hot loop.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx


class Block(nnx.Module):
    def __init__(self, d_model: int, n_heads: int, eps: float, dtype, rngs: nnx.Rngs):
        # Flax defaults to epsilon 1e-6 and the one-pass variance E[x^2] - E[x]^2;
        # the shared epsilon and the two-pass variance match torch and Keras
        norm = partial(nnx.LayerNorm, d_model, epsilon=eps, use_fast_variance=False, dtype=dtype, rngs=rngs)
        self.ln1 = norm()
        self.attn = nnx.MultiHeadAttention(n_heads, d_model, dtype=dtype, decode=False, rngs=rngs)
        self.ln2 = norm()
        self.fc = nnx.Linear(d_model, 4 * d_model, dtype=dtype, rngs=rngs)
        self.proj = nnx.Linear(4 * d_model, d_model, dtype=dtype, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        x = x + self.attn(self.ln1(x), is_causal=True)
        # jax.nn.gelu defaults to the tanh approximation; the others use the exact erf form
        return x + self.proj(nnx.gelu(self.fc(self.ln2(x)), approximate=False))


class GPT(nnx.Module):
    def __init__(self, vocab: int, d_model: int, n_heads: int, n_layers: int, seq_len: int, eps: float,
                 dtype, rngs: nnx.Rngs):
        self.tok_emb = nnx.Embed(vocab, d_model, dtype=dtype, rngs=rngs)
        self.pos_emb = nnx.Embed(seq_len, d_model, dtype=dtype, rngs=rngs)
        self.blocks = nnx.List([Block(d_model, n_heads, eps, dtype, rngs) for _ in range(n_layers)])
        self.ln_f = nnx.LayerNorm(d_model, epsilon=eps, use_fast_variance=False, dtype=dtype, rngs=rngs)
        self.head = nnx.Linear(d_model, vocab, dtype=dtype, rngs=rngs)

    def __call__(self, idx: jax.Array) -> jax.Array:
        x = self.tok_emb(idx) + self.pos_emb(jnp.arange(idx.shape[1]))
        for block in self.blocks:
            x = block(x)
        # logits in fp32 whatever the compute dtype: the loss and argmax read them
        return self.head(self.ln_f(x)).astype(jnp.float32)


def canonical_params(model: GPT) -> dict[str, nnx.Param]:
    """Canonical name -> NNX parameter. nnx.MultiHeadAttention keeps per-head kernels
    (q/k/v (d, heads, head_dim), biases (heads, head_dim), out (heads, head_dim, d));
    a row-major reshape maps the canonical (d, d) kernels onto them."""
    out = {"tok_emb": model.tok_emb.embedding, "pos_emb": model.pos_emb.embedding}

    def dense(name, layer):
        out[name + ".kernel"], out[name + ".bias"] = layer.kernel, layer.bias

    def norm(name, layer):
        out[name + ".scale"], out[name + ".bias"] = layer.scale, layer.bias

    for i, block in enumerate(model.blocks):
        p = f"block{i}."
        norm(p + "ln1", block.ln1)
        for n, proj in zip("qkvo", (block.attn.query, block.attn.key, block.attn.value, block.attn.out),
                           strict=True):
            dense(p + f"attn.{n}", proj)
        norm(p + "ln2", block.ln2)
        dense(p + "mlp.fc", block.fc)
        dense(p + "mlp.proj", block.proj)
    norm("ln_f", model.ln_f)
    dense("head", model.head)
    return out


def loss_fn(model: GPT, x: jax.Array, y: jax.Array) -> jax.Array:
    logits = model(x)
    # mean over all B*T tokens
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


def train_step(graphdef, state, x, y):
    model, optimizer = nnx.merge(graphdef, state)
    loss, grads = nnx.value_and_grad(loss_fn)(model, x, y)
    optimizer.update(model, grads)
    return nnx.state((model, optimizer)), loss


def predict(graphdef, state, x):
    model, _ = nnx.merge(graphdef, state)
    return model(x)


class Model:
    def __init__(self, problem, mode: str, device: jax.Device):
        if mode != "jit":
            raise NotImplementedError(f"jax has no mode {mode!r}")
        hp = problem.hyper
        precision = hp.get("precision", "fp32")
        # Flax mixed precision: params stay fp32 (param_dtype), compute runs in dtype
        dtypes = {"fp32": None, "bf16": jnp.bfloat16}
        if precision not in dtypes:
            raise NotImplementedError(f"precision {precision!r}")
        with jax.default_device(device):
            model = GPT(hp["vocab"], hp["d_model"], hp["n_heads"], hp["n_layers"], hp["seq_len"],
                        hp["ln_epsilon"], dtypes[precision], rngs=nnx.Rngs(0))
            for name, param in canonical_params(model).items():
                param.value = jnp.asarray(problem.init_weights[name].reshape(param.value.shape))
            # optax.adamw decays every parameter (mask=None), as torch and Keras AdamW do
            tx = optax.adamw(hp["lr"], b1=hp["betas"][0], b2=hp["betas"][1], eps=hp["adam_epsilon"],
                             weight_decay=hp["weight_decay"])
            optimizer = nnx.Optimizer(model, tx, wrt=nnx.Param)
        self.shapes = {name: w.shape for name, w in problem.init_weights.items()}
        self.graphdef, state = nnx.split((model, optimizer))
        # committed to the device like the input batches, so the second step does
        # not compile again for differently placed arguments
        self.state = jax.device_put(state, device)
        # the old state buffers are donated: updated in place, as torch and TF do
        self._train_step = jax.jit(train_step, static_argnums=0, donate_argnums=1)
        self._predict = jax.jit(predict, static_argnums=0)

    def train_step(self, x: jax.Array, y: jax.Array) -> jax.Array:
        self.state, loss = self._train_step(self.graphdef, self.state, x, y)
        return loss

    def predict(self, x: jax.Array) -> jax.Array:
        return self._predict(self.graphdef, self.state, x)

    def weights(self) -> dict[str, np.ndarray]:
        model, _ = nnx.merge(self.graphdef, self.state)
        return {name: np.asarray(param.value).reshape(self.shapes[name])
                for name, param in canonical_params(model).items()}


def build(problem, mode: str, device: jax.Device) -> Model:
    return Model(problem, mode, device)
