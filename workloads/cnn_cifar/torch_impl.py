"""cnn_cifar in PyTorch: an nn.Module ResNet, torch.optim.SGD with momentum,
augmentation by tensor indexing on the device; eager or torch.compile; bf16 via
torch.autocast. See workload.py for the architecture and the canonical layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        # padding=1 pads both sides, also with stride 2 (the canonical choice)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.proj = nn.Conv2d(cin, cout, 1, stride=stride) if stride != 1 or cin != cout else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv2(F.relu(self.conv1(x)))
        shortcut = x if self.proj is None else self.proj(x)
        return F.relu(h + shortcut)


class ResNet(nn.Module):
    def __init__(self, widths: list[int], n_classes: int):
        super().__init__()
        self.stem = nn.Conv2d(3, widths[0], 3, padding=1)
        cin = widths[0]
        self.n_blocks = len(widths)
        for s, width in enumerate(widths):
            # named block0, block1... like the canonical weights
            self.add_module(f"block{s}", Block(cin, width, 1 if s == 0 else 2))
            cin = width
        self.head = nn.Linear(cin, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: NCHW
        x = F.relu(self.stem(x))
        for s in range(self.n_blocks):
            x = getattr(self, f"block{s}")(x)
        return self.head(x.mean(dim=(2, 3)))  # global average pool


def augment(x: torch.Tensor, crop: torch.Tensor, flip: torch.Tensor, pad: int) -> torch.Tensor:
    """Zero-pad, crop each image at its own (dy, dx), mirror where flip == 1:
    one advanced-indexing gather over the padded NHWC batch."""
    b, h, w, _ = x.shape
    padded = F.pad(x, (0, 0, pad, pad, pad, pad))  # (C, W, H) pairs from the last dim
    ar_h = torch.arange(h, device=x.device)
    ar_w = torch.arange(w, device=x.device)
    rows = crop[:, :1] + ar_h  # (B, H)
    # mirroring is reading the window's columns right to left
    cols = crop[:, 1:] + torch.where(flip[:, None].bool(), ar_w.flip(0), ar_w)  # (B, W)
    batch = torch.arange(b, device=x.device)[:, None, None]
    return padded[batch, rows[:, :, None], cols[:, None, :]]


def torch_name(name: str) -> str:
    return name.replace(".kernel", ".weight")


def to_torch_layout(value: np.ndarray) -> np.ndarray:
    # conv (kh, kw, in, out) -> (out, in, kh, kw); dense (in, out) -> (out, in)
    return value.transpose(3, 2, 0, 1) if value.ndim == 4 else value.T


def from_torch_layout(value: np.ndarray) -> np.ndarray:
    return value.transpose(2, 3, 1, 0) if value.ndim == 4 else value.T


class Model:
    def __init__(self, problem, mode: str, device: torch.device):
        hp = problem.hyper
        self.device = torch.device(device)
        self.pad = hp["pad"]
        self.names = list(problem.init_weights)
        self.net = ResNet(hp["widths"], hp["n_classes"]).to(self.device)
        self.load_weights(problem.init_weights)
        # torch's momentum: v = mu * v + g; p -= lr * v (dampening 0, no Nesterov)
        self.optimizer = torch.optim.SGD(self.net.parameters(), lr=hp["lr"], momentum=hp["momentum"])
        # mixed precision: parameters stay fp32, autocast runs convs/matmuls in bf16
        self.bf16 = hp.get("precision", "fp32") == "bf16"
        if mode == "eager":
            self.loss_fn, self.forward = self._loss, self._forward
        elif mode == "compile":
            # compiles augmentation + forward and, through AOTAutograd, backward;
            # the SGD update stays eager
            self.loss_fn = torch.compile(self._loss)
            self.forward = torch.compile(self._forward)
        else:
            raise NotImplementedError(f"torch has no mode {mode!r}")

    def _autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        with self._autocast():
            logits = self.net(x.permute(0, 3, 1, 2))  # NHWC from the harness -> NCHW
        return logits.float()

    def _loss(self, x, y, crop, flip) -> torch.Tensor:
        x = augment(x, crop, flip, self.pad)
        return F.cross_entropy(self._forward(x), y)

    def train_step(self, x, y, crop, flip) -> torch.Tensor:
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.loss_fn(x, y, crop, flip)
        loss.backward()
        self.optimizer.step()
        return loss.detach()

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward(x)

    def load_weights(self, weights: dict[str, np.ndarray]) -> None:
        params = dict(self.net.named_parameters())
        with torch.no_grad():
            for name, value in weights.items():
                params[torch_name(name)].copy_(torch.from_numpy(to_torch_layout(value).copy()))

    def weights(self) -> dict[str, np.ndarray]:
        params = dict(self.net.named_parameters())
        return {
            name: from_torch_layout(params[torch_name(name)].detach().cpu().numpy()).copy()
            for name in self.names
        }

    def save(self, directory: str) -> None:
        state = {"model": self.net.state_dict(), "optimizer": self.optimizer.state_dict()}
        torch.save(state, Path(directory) / "checkpoint.pt")

    def restore(self, directory: str) -> None:
        state = torch.load(Path(directory) / "checkpoint.pt", map_location=self.device,
                           weights_only=True)
        self.net.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])


def build(problem, mode: str, device: torch.device) -> Model:
    return Model(problem, mode, device)
