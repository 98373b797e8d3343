"""mlp_digits in PyTorch: nn.Sequential, torch.optim.Adam; eager or torch.compile."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def make_mlp(hidden: int, n_features: int, n_classes: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(n_features, hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Linear(hidden, n_classes),
    )


class Model:
    def __init__(self, problem, mode: str, device: torch.device):
        hp = problem.hyper
        self.net = make_mlp(hp["hidden"], hp["n_features"], hp["n_classes"]).to(device)
        self.dense = [m for m in self.net if isinstance(m, nn.Linear)]
        self.load_weights(problem.init_weights)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=hp["lr"])
        if mode == "eager":
            self.loss_fn = self._loss
            self.forward = self.net
        elif mode == "compile":
            # compiles forward and, through AOTAutograd, backward; Adam stays eager
            self.loss_fn = torch.compile(self._loss)
            self.forward = torch.compile(self.net)
        else:
            raise NotImplementedError(f"torch has no mode {mode!r}")

    def _loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return nn.functional.cross_entropy(self.net(x), y)

    def train_step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.loss_fn(x, y)
        loss.backward()
        self.optimizer.step()
        return loss.detach()

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward(x)

    def load_weights(self, weights: dict[str, np.ndarray]) -> None:
        with torch.no_grad():
            for i, layer in enumerate(self.dense):
                # torch keeps kernels as (out, in)
                layer.weight.copy_(torch.from_numpy(weights[f"w{i}"].T.copy()))
                layer.bias.copy_(torch.from_numpy(weights[f"b{i}"]))

    def weights(self) -> dict[str, np.ndarray]:
        out = {}
        for i, layer in enumerate(self.dense):
            out[f"w{i}"] = layer.weight.detach().cpu().numpy().T.copy()
            out[f"b{i}"] = layer.bias.detach().cpu().numpy().copy()
        return out


def build(problem, mode: str, device: torch.device) -> Model:
    return Model(problem, mode, device)
