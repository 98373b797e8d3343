"""transformer_lm in PyTorch: nn.Module blocks, F.scaled_dot_product_attention,
torch.optim.AdamW; eager or torch.compile, fp32 or torch.autocast(bfloat16)."""

from __future__ import annotations

import contextlib

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model: int, n_heads: int):
        super().__init__()
        self.n_heads = n_heads
        # separate projections, matching the canonical q/k/v/o kernels one to one
        self.q = nn.Linear(d_model, d_model)
        self.k = nn.Linear(d_model, d_model)
        self.v = nn.Linear(d_model, d_model)
        self.o = nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape

        def heads(proj: nn.Linear) -> torch.Tensor:  # (B, T, d) -> (B, heads, T, head_dim)
            return proj(x).view(b, t, self.n_heads, d // self.n_heads).transpose(1, 2)

        # picks a fused (flash / memory-efficient) kernel where one applies
        y = F.scaled_dot_product_attention(heads(self.q), heads(self.k), heads(self.v), is_causal=True)
        return self.o(y.transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    def __init__(self, d_model: int, n_heads: int, eps: float):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model, eps=eps)
        self.attn = CausalSelfAttention(d_model, n_heads)
        self.ln2 = nn.LayerNorm(d_model, eps=eps)
        # nn.GELU() is the exact erf form (approximate="none"), as in the other frameworks
        self.mlp = nn.Sequential()
        self.mlp.add_module("fc", nn.Linear(d_model, 4 * d_model))
        self.mlp.add_module("gelu", nn.GELU())
        self.mlp.add_module("proj", nn.Linear(4 * d_model, d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, vocab: int, d_model: int, n_heads: int, n_layers: int, seq_len: int, eps: float):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab, d_model)
        self.pos_emb = nn.Embedding(seq_len, d_model)
        self.blocks = nn.ModuleList(Block(d_model, n_heads, eps) for _ in range(n_layers))
        self.ln_f = nn.LayerNorm(d_model, eps=eps)
        self.head = nn.Linear(d_model, vocab)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(idx.shape[1], device=idx.device)
        x = self.tok_emb(idx) + self.pos_emb(pos)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


def _canonical_params(net: GPT) -> dict[str, nn.Parameter]:
    """Canonical name -> torch parameter; Linear weights are (out, in), transposed on the way."""
    params = {"tok_emb": net.tok_emb.weight, "pos_emb": net.pos_emb.weight}
    layers = {"ln_f": net.ln_f, "head": net.head}
    for i, block in enumerate(net.blocks):
        p = f"block{i}."
        layers.update({p + "ln1": block.ln1, p + "ln2": block.ln2,
                       p + "mlp.fc": block.mlp.fc, p + "mlp.proj": block.mlp.proj})
        layers.update({p + f"attn.{n}": getattr(block.attn, n) for n in "qkvo"})
    for name, layer in layers.items():
        if isinstance(layer, nn.LayerNorm):
            params[name + ".scale"] = layer.weight
        else:
            params[name + ".kernel"] = layer.weight
        params[name + ".bias"] = layer.bias
    return params


class Model:
    def __init__(self, problem, mode: str, device: torch.device):
        hp = problem.hyper
        self.net = GPT(hp["vocab"], hp["d_model"], hp["n_heads"], hp["n_layers"], hp["seq_len"],
                       hp["ln_epsilon"]).to(device)
        self.params = _canonical_params(self.net)
        self.load_weights(problem.init_weights)
        # AdamW decays every parameter by default, as optax.adamw and Keras AdamW do
        self.optimizer = torch.optim.AdamW(self.net.parameters(), lr=hp["lr"], betas=hp["betas"],
                                           eps=hp["adam_epsilon"], weight_decay=hp["weight_decay"])
        precision = hp.get("precision", "fp32")
        if precision == "bf16":
            # autocast runs matmuls/attention in bf16, keeps the fp32 weights and residual stream
            self.autocast = lambda: torch.autocast(device.type, dtype=torch.bfloat16)
        elif precision == "fp32":
            self.autocast = contextlib.nullcontext
        else:
            raise NotImplementedError(f"precision {precision!r}")
        if mode == "eager":
            self.loss_fn = self._loss
            self.forward = self.net
        elif mode == "compile":
            # compiles forward and, through AOTAutograd, backward; AdamW stays eager
            self.loss_fn = torch.compile(self._loss)
            self.forward = torch.compile(self.net)
        else:
            raise NotImplementedError(f"torch has no mode {mode!r}")

    def _loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        logits = self.net(x)
        # mean over all B*T tokens; the loss itself is taken in fp32
        return F.cross_entropy(logits.flatten(0, 1).float(), y.flatten())

    def train_step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        self.optimizer.zero_grad(set_to_none=True)
        with self.autocast():
            loss = self.loss_fn(x, y)
        loss.backward()
        self.optimizer.step()
        return loss.detach()

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        with self.autocast():
            return self.forward(x).float()

    def load_weights(self, weights: dict[str, np.ndarray]) -> None:
        with torch.no_grad():
            for name, param in self.params.items():
                value = weights[name].T if name.endswith(".kernel") else weights[name]
                param.copy_(torch.from_numpy(np.ascontiguousarray(value)))

    def weights(self) -> dict[str, np.ndarray]:
        out = {}
        for name, param in self.params.items():
            value = param.detach().cpu().numpy()
            out[name] = (value.T if name.endswith(".kernel") else value).copy()
        return out


def build(problem, mode: str, device: torch.device) -> Model:
    return Model(problem, mode, device)
