"""transformer_lm, framework-neutral part: corpus, batches, initial weights and FLOPs.

A small GPT-style decoder trained to predict the next character of the English help
texts that ship with CPython (``pydoc_data.topics``: the pages ``help("if")`` and
friends print), so nothing is downloaded.

Canonical weight layout (shared by every framework; ``L`` blocks, ``d`` = d_model,
``V`` = vocabulary, ``T`` = seq_len)::

    tok_emb                       (V, d)     token embedding table
    pos_emb                       (T, d)     learned positional embedding table
    block{i}.ln1.scale / .bias    (d,)       pre-attention LayerNorm (epsilon 1e-5)
    block{i}.attn.{q,k,v,o}.kernel (d, d)    projections, kernels (in, out)
    block{i}.attn.{q,k,v,o}.bias  (d,)
    block{i}.ln2.scale / .bias    (d,)       pre-MLP LayerNorm
    block{i}.mlp.fc.kernel        (d, 4d)    then exact (erf) GELU
    block{i}.mlp.fc.bias          (4d,)
    block{i}.mlp.proj.kernel      (4d, d)
    block{i}.mlp.proj.bias        (d,)
    ln_f.scale / .bias            (d,)       final LayerNorm
    head.kernel                   (d, V)     untied output projection
    head.bias                     (V,)

Heads split the q/k/v output features contiguously: feature ``c`` belongs to head
``c // (d / n_heads)``; likewise the rows of the ``o`` kernel. Frameworks that keep
per-head kernels (Keras/Flax ``(d, heads, head_dim)`` and ``(heads, head_dim, d)``)
reshape these row-major.
"""

from __future__ import annotations

import hashlib
import platform
import pydoc_data.topics

import numpy as np

from pipeline.contract import Problem

LN_EPSILON = 1e-5
ADAM_BETAS = (0.9, 0.999)
ADAM_EPSILON = 1e-8
EVAL_FRACTION = 0.1


def corpus() -> str:
    """The help topics in sorted-key order, one blank line apart. The text (hence its
    sha256 in the facts) is fixed for a given CPython release, not across releases."""
    topics = pydoc_data.topics.topics
    return "\n".join(topics[key] for key in sorted(topics))


def encode(text: str) -> tuple[np.ndarray, list[str]]:
    """Character ids into the sorted vocabulary of the text."""
    vocab = sorted(set(text))
    index = {ch: i for i, ch in enumerate(vocab)}
    return np.fromiter((index[ch] for ch in text), dtype=np.int32, count=len(text)), vocab


def windows(tokens: np.ndarray, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping (x, y) windows of ``seq_len`` tokens, y shifted one ahead of x."""
    n = (len(tokens) - 1) // seq_len
    starts = np.arange(n) * seq_len
    idx = starts[:, None] + np.arange(seq_len)[None, :]
    return tokens[idx], tokens[idx + 1]


def init_weights(vocab: int, d_model: int, n_layers: int, seq_len: int, seed: int) -> dict[str, np.ndarray]:
    """GPT-2 style: N(0, 0.02) for embeddings and kernels, the two projections that
    write into the residual stream (attn.o, mlp.proj) scaled by 1/sqrt(2 n_layers) so
    the stream's variance does not grow with depth. Biases N(0, 0.02) and LayerNorm scales
    1 + N(0, 0.02), from a stream of their own, instead of GPT-2's zeros and ones: every
    parameter differs from every other, so a dropped or swapped one changes the result."""
    rng = np.random.default_rng(seed)
    small_rng = np.random.default_rng([seed, 1])
    d, std = d_model, 0.02
    resid_std = std / np.sqrt(2 * n_layers)

    def normal(shape, scale=std):
        return (scale * rng.standard_normal(shape)).astype(np.float32)

    def near_zero(n):
        return (std * small_rng.standard_normal(n)).astype(np.float32)

    def near_one(n):
        return (1.0 + std * small_rng.standard_normal(n)).astype(np.float32)

    w = {"tok_emb": normal((vocab, d)), "pos_emb": normal((seq_len, d))}
    for i in range(n_layers):
        p = f"block{i}."
        w[p + "ln1.scale"], w[p + "ln1.bias"] = near_one(d), near_zero(d)
        for name in "qkv":
            w[p + f"attn.{name}.kernel"], w[p + f"attn.{name}.bias"] = normal((d, d)), near_zero(d)
        w[p + "attn.o.kernel"], w[p + "attn.o.bias"] = normal((d, d), resid_std), near_zero(d)
        w[p + "ln2.scale"], w[p + "ln2.bias"] = near_one(d), near_zero(d)
        w[p + "mlp.fc.kernel"], w[p + "mlp.fc.bias"] = normal((d, 4 * d)), near_zero(4 * d)
        w[p + "mlp.proj.kernel"], w[p + "mlp.proj.bias"] = normal((4 * d, d), resid_std), near_zero(d)
    w["ln_f.scale"], w["ln_f.bias"] = near_one(d), near_zero(d)
    w["head.kernel"], w["head.bias"] = normal((d, vocab)), near_zero(vocab)
    return w


def matmul_parameters(vocab: int, d_model: int, n_layers: int) -> int:
    """Weights that take part in a matrix product: per block 4 d^2 (q, k, v, o) +
    8 d^2 (MLP), plus the d x V head. Embedding lookups, biases and norms do no matmul."""
    return n_layers * 12 * d_model * d_model + d_model * vocab


def flops(vocab: int, d_model: int, n_layers: int, seq_len: int) -> tuple[float, float]:
    """(forward FLOPs per token, training FLOPs per token), the standard estimate
    (Kaplan et al. 2020; PaLM appendix B):

    * forward: ``2 N`` for the weight matmuls (one multiply-add per weight per token,
      N from :func:`matmul_parameters`) plus ``4 L T d`` for attention
      (``Q K^T`` and ``softmax(.) V``: 2 T d multiply-adds per token and layer; the
      causal mask is not discounted, as in the usual convention);
    * training: three times the forward (backward ~ 2x forward), i.e.
      ``6 N + 12 L T d`` per token.
    """
    n = matmul_parameters(vocab, d_model, n_layers)
    forward = 2.0 * n + 4.0 * n_layers * seq_len * d_model
    return forward, 3.0 * forward


def make_problem(
    seed: int,
    d_model: int,
    n_heads: int,
    n_layers: int,
    seq_len: int,
    batch: int,
    lr: float,
    weight_decay: float,
    eval_sequences: int,
    max_batches: int | None = None,
) -> Problem:
    if d_model % n_heads:
        raise ValueError(f"d_model {d_model} is not divisible by n_heads {n_heads}")
    text = corpus()
    tokens, vocab = encode(text)
    # the held-out slice is the tail of the corpus, never seen in training
    split = int(len(tokens) * (1 - EVAL_FRACTION))
    train_x, train_y = windows(tokens[:split], seq_len)
    eval_x, eval_y = windows(tokens[split:], seq_len)
    eval_x, eval_y = eval_x[:eval_sequences], eval_y[:eval_sequences]

    order = np.random.default_rng(seed).permutation(len(train_x))
    n_batches = len(order) // batch  # drop the ragged tail: one shape only
    if max_batches is not None:
        n_batches = min(n_batches, max_batches)
    if n_batches == 0:
        raise ValueError(f"batch {batch} exceeds the {len(order)} training windows")
    batches = [
        (train_x[idx], train_y[idx])
        for idx in np.split(order[: n_batches * batch], n_batches)
    ]
    weights = init_weights(len(vocab), d_model, n_layers, seq_len, seed)
    forward_per_token, train_per_token = flops(len(vocab), d_model, n_layers, seq_len)
    return Problem(
        train_batches=batches,
        eval_x=eval_x,
        eval_y=eval_y,
        init_weights=weights,
        hyper={
            "vocab": len(vocab),
            "n_classes": len(vocab),  # logits' last axis, as for classifiers
            "d_model": d_model,
            "n_heads": n_heads,
            "n_layers": n_layers,
            "seq_len": seq_len,
            "lr": lr,
            "weight_decay": weight_decay,
            "betas": ADAM_BETAS,
            "adam_epsilon": ADAM_EPSILON,
            "ln_epsilon": LN_EPSILON,
        },
        flops_per_train_step=train_per_token * batch * seq_len,
        flops_per_example_forward=forward_per_token * seq_len,
        unit="tokens",
        units_per_example=seq_len,
        facts={
            "corpus": "pydoc_data.topics (CPython's English help texts), topics in sorted order",
            "corpus_python": platform.python_version(),
            "corpus_characters": len(text),
            "corpus_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            "vocabulary": len(vocab),
            "parameters": int(sum(w.size for w in weights.values())),
            "matmul_parameters": matmul_parameters(len(vocab), d_model, n_layers),
            "train_tokens": int(split),
            "eval_sequences": int(len(eval_x)),
            "batches_per_epoch": n_batches,
            "tokens_per_step": batch * seq_len,
            # the baseline the reference text quotes: always the most frequent held-out character
            "majority_accuracy": float(np.bincount(np.asarray(eval_y).ravel()).max() / np.asarray(eval_y).size),
        },
    )
