"""dynamic_shapes in PyTorch: an nn.Module with scaled_dot_product_attention,
torch.optim.SGD; eager or torch.compile.

torch.compile runs with its defaults on purpose: the first batch compiles a graph
specialised to its length; the first *different* length makes Dynamo recompile
with that dimension marked dynamic ("automatic dynamic shapes"), and that
symbolic-length graph then serves every later length without compiling again.
That default behaviour, not dynamic=True, is what this workload measures.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class AttentionClassifier(nn.Module):
    def __init__(self, vocab: int, positions: int, embed: int, hidden: int, classes: int):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.pos = nn.Embedding(positions, embed)
        self.q, self.k, self.v = (nn.Linear(embed, embed) for _ in range(3))
        self.proj = nn.Linear(embed, hidden)
        self.out = nn.Linear(hidden, classes)

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        x = (self.embed(tokens) + self.pos(positions)) * mask.unsqueeze(-1)  # (B, L, E)
        # boolean attn_mask: True keys take part; (B, 1, L) broadcasts over the queries.
        # The default scale is 1/sqrt(E), as in the other frameworks
        keys = mask.unsqueeze(1) > 0
        a = F.scaled_dot_product_attention(self.q(x), self.k(x), self.v(x), attn_mask=keys)
        h = F.relu(self.proj(a))  # (B, L, H)
        pooled = (h * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
        return self.out(pooled)

    def load(self, weights: dict[str, np.ndarray]) -> None:
        def t(name: str) -> torch.Tensor:
            return torch.from_numpy(weights[name])

        with torch.no_grad():
            self.embed.weight.copy_(t("embed"))
            self.pos.weight.copy_(t("pos"))
            for layer, w, b in ((self.q, "wq", "bq"), (self.k, "wk", "bk"), (self.v, "wv", "bv"),
                                (self.proj, "wo", "bo"), (self.out, "out_w", "out_b")):
                layer.weight.copy_(t(w).T)  # torch Linear keeps (out, in)
                layer.bias.copy_(t(b))


class Bench:
    def __init__(self, problem, mode: str, device: torch.device):
        if mode not in ("eager", "compile"):
            raise NotImplementedError(f"torch has no mode {mode!r}")
        self.problem, self.mode, self.device = problem, mode, device

    def _batches(self, case: str) -> list[tuple[torch.Tensor, ...]]:
        from_np = self.problem.data
        out = []
        for i, n in enumerate(from_np[f"length_{case}"]):
            tokens = torch.from_numpy(from_np["tokens"][i, :, :n]).long()
            mask = torch.from_numpy(np.ascontiguousarray(from_np["mask"][i, :, :n]))
            labels = torch.from_numpy(from_np["labels"][i]).long()  # cross_entropy wants int64
            out.append(tuple(a.to(self.device) for a in (tokens, mask, labels)))
        return out

    def operation(self, case: str):
        if case not in self.problem.cases:
            raise NotImplementedError(f"no case {case!r}")
        hp = self.problem.hyper
        net = AttentionClassifier(hp["vocab"], hp["positions"], hp["embed"], hp["hidden"],
                                  hp["classes"])
        net.load(self.problem.init_weights)
        net.to(self.device)
        optimizer = torch.optim.SGD(net.parameters(), lr=hp["lr"])

        def loss_fn(tokens, mask, labels):
            return F.cross_entropy(net(tokens, mask), labels)

        if self.mode == "compile":
            # Dynamo caches graphs (and what it learnt about dynamic dimensions) per
            # code object, across models: start each case from a clean slate so its
            # first pass pays its own compilations, whatever case ran before
            torch._dynamo.reset()
            # compiles forward and loss, and (through AOTAutograd) their backward;
            # SGD stays eager
            loss_fn = torch.compile(loss_fn)
        batches = self._batches(case)

        def train_pass() -> torch.Tensor:
            losses = []
            for tokens, mask, labels in batches:
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(tokens, mask, labels)
                loss.backward()
                optimizer.step()
                losses.append(loss.detach())
            return torch.stack(losses)

        return train_pass


def build(problem, mode: str, device: torch.device) -> Bench:
    return Bench(problem, mode, device)
