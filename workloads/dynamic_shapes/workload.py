"""dynamic_shapes, framework-neutral part: a stream of variable-length batches, the
shared initial weights and the two cases, in NumPy.

The model (the same maths in every framework), one single-head attention layer:

    x      = (embed[tokens] + pos[0:L]) * mask[..., None]      # (B, L, E)
    q, k, v = x @ wq + bq, x @ wk + bk, x @ wv + bv
    p      = softmax(q k^T / sqrt(E), keys past the valid length masked out)
    h      = relu((p @ v) @ wo + bo)                           # (B, L, H)
    pooled = sum_t(h * mask) / sum_t(mask)                     # masked mean over valid positions
    logits = pooled @ out_w + out_b                            # (B, C)
    loss   = mean softmax cross-entropy

trained with plain SGD (no momentum, no weight decay), one step per batch.

Masked keys get exactly zero attention (their exponent underflows to 0) and the
masked mean ignores padded positions, so padding a batch changes nothing but the
order of float sums: the ``unpadded`` and ``bucketed`` cases give the same losses.

Canonical weight layouts (dense kernels ``(in, out)``): ``embed`` (V, E); ``pos``
(P, E) with P the longest bucket; ``wq``, ``wk``, ``wv`` (E, E) and ``bq``,
``bk``, ``bv`` (E,); ``wo`` (E, H), ``bo`` (H,); ``out_w`` (H, C), ``out_b`` (C,).

Data (``problem.data``), for N batches of B sequences:
``tokens`` (N, B, Lmax) int32, 0 past each sequence's length (id 0 is never a
real token); ``mask`` (N, B, Lmax) float32, 1 on valid positions; ``labels``
(N, B) int32; ``length_unpadded`` and ``length_bucketed`` (N,) int32, the length
batch i is cut to in each case: ``tokens[i, :, :length_<case>[i]]``.
"""

from __future__ import annotations

import numpy as np

from pipeline.contract import Case, Problem

CASES = ("unpadded", "bucketed")


def batch_stream(data: dict[str, np.ndarray], case: str) -> list[tuple[np.ndarray, ...]]:
    """(tokens, mask, labels) of every batch of ``case``, cut to that case's lengths."""
    return [
        (data["tokens"][i, :, :n], data["mask"][i, :, :n], data["labels"][i])
        for i, n in enumerate(data[f"length_{case}"])
    ]


def make_stream(rng: np.random.Generator, vocab: int, classes: int, batch: int, n_batches: int,
                min_len: int, max_len: int, bucket: int) -> dict[str, np.ndarray]:
    # each batch's length is uniform in [min_len, max_len] (length-grouped batching:
    # the sequences of a batch are between half that length and that length)
    batch_len = rng.integers(min_len, max_len + 1, n_batches)
    bucket_len = -(-batch_len // bucket) * bucket
    width = int(bucket_len.max())
    seq_len = np.empty((n_batches, batch), np.int64)
    for i, n in enumerate(batch_len):
        seq_len[i] = rng.integers(-(-n // 2), n + 1, batch)
        seq_len[i, rng.integers(batch)] = n  # the batch really is n long
    mask = (np.arange(width) < seq_len[..., None]).astype(np.float32)
    tokens = rng.integers(1, vocab, (n_batches, batch, width)) * mask.astype(np.int64)
    # labels from a fixed random bag-of-words teacher, so the losses go down
    teacher = rng.normal(size=(vocab, classes))
    teacher[0] = 0.0
    scores = teacher[tokens].sum(axis=2) / seq_len[..., None]
    return {
        "tokens": tokens.astype(np.int32),
        "mask": mask,
        "labels": scores.argmax(axis=-1).astype(np.int32),
        "length_unpadded": batch_len.astype(np.int32),
        "length_bucketed": bucket_len.astype(np.int32),
    }


def init_weights(rng: np.random.Generator, vocab: int, positions: int, embed: int, hidden: int,
                 classes: int) -> dict[str, np.ndarray]:
    """Normal(0, 1) embeddings, Glorot-uniform kernels, small non-zero biases (drawn after
    everything else, so that a dropped or swapped bias changes the result)."""

    def glorot(fan_in: int, fan_out: int) -> np.ndarray:
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)

    weights = {
        "embed": rng.normal(size=(vocab, embed)).astype(np.float32),
        "pos": rng.normal(size=(positions, embed)).astype(np.float32),
    }
    for name in "qkv":
        weights[f"w{name}"] = glorot(embed, embed)
    weights.update(wo=glorot(embed, hidden), out_w=glorot(hidden, classes))
    for name, size in (("bq", embed), ("bk", embed), ("bv", embed), ("bo", hidden), ("out_b", classes)):
        weights[name] = rng.uniform(-0.05, 0.05, size).astype(np.float32)
    return weights


def stream_flops(lengths: np.ndarray, batch: int, embed: int, hidden: int, classes: int) -> float:
    """Model FLOPs of one pass (training, three times the forward) over batches of
    the given (padded) lengths: per token the q, k, v projections (3 x 2 e^2),
    attention scores and weighted sum (2 x 2 L e) and the ReLU projection (2 e h);
    per sequence the classifier (2 h c)."""
    lengths = np.asarray(lengths, dtype=np.float64)
    per_token = 6.0 * embed * embed + 4.0 * lengths * embed + 2.0 * embed * hidden
    forward = batch * (lengths * per_token + 2.0 * hidden * classes)
    return float(3.0 * forward.sum())


def make_problem(seed: int, vocab: int, embed: int, hidden: int, classes: int, batch: int,
                 n_batches: int, min_len: int, max_len: int, bucket: int, lr: float) -> Problem:
    rng = np.random.default_rng(seed)
    data = make_stream(rng, vocab, classes, batch, n_batches, min_len, max_len, bucket)
    positions = data["tokens"].shape[2]
    weights = init_weights(rng, vocab, positions, embed, hidden, classes)
    valid_tokens = int(data["mask"].sum())
    distinct = {case: len(set(data[f"length_{case}"].tolist())) for case in CASES}
    padded = {case: int(data[f"length_{case}"].sum()) * batch for case in CASES}
    # one call trains over the whole stream; the work is the real (unpadded) tokens,
    # the same for both cases, so tokens/s shows what padding or recompiling costs
    cases = {
        "unpadded": Case(
            work=valid_tokens, unit="tokens",
            flops=stream_flops(data["length_unpadded"], batch, embed, hidden, classes),
            description=f"{n_batches} SGD steps, each batch cut to its own length "
                        f"({distinct['unpadded']} distinct shapes, {min_len}-{max_len})",
        ),
        "bucketed": Case(
            work=valid_tokens, unit="tokens",
            flops=stream_flops(data["length_bucketed"], batch, embed, hidden, classes),
            description=f"{n_batches} SGD steps, each batch padded up to a multiple of {bucket} "
                        f"({distinct['bucketed']} distinct shapes)",
        ),
    }
    return Problem(
        init_weights=weights,
        hyper={"vocab": vocab, "positions": positions, "embed": embed, "hidden": hidden,
               "classes": classes, "lr": lr},
        cases=cases,
        data=data,
        reference=None,  # the tests compare every framework with torch eager
        facts={
            "parameters": int(sum(w.size for w in weights.values())),
            "batches": n_batches,
            "batch_size": batch,
            "valid_tokens": valid_tokens,
            "distinct_lengths_unpadded": distinct["unpadded"],
            "distinct_lengths_bucketed": distinct["bucketed"],
            "padding_overhead_unpadded": round(padded["unpadded"] / valid_tokens - 1, 3),
            "padding_overhead_bucketed": round(padded["bucketed"] / valid_tokens - 1, 3),
        },
    )
