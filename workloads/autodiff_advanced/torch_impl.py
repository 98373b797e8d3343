"""autodiff_advanced in PyTorch: torch.func transforms over an nn.Sequential.

* per-example gradients: ``vmap(grad(loss_of_one_example))`` with
  ``functional_call``, the torch.func recipe for per-sample gradients;
* loop: B calls of ``torch.autograd.grad`` on single-example losses;
* HVP: ``jvp(grad(mean_loss))``, forward-over-reverse as in JAX.

``compile`` wraps the two transform pipelines in ``torch.compile`` and, in the
loop, the single-example loss (backward then goes through AOTAutograd, as in a
compiled training step).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call, grad, jvp, vmap
from torch.nn import functional as F

# canonical flat order: w0, b0, w1, b1, w2, b2 with kernels (in, out)
LAYERS = ("0", "2", "4")  # the Linear layers' names inside nn.Sequential


def make_mlp(features: int, hidden: int, classes: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(features, hidden), nn.Tanh(),
        nn.Linear(hidden, hidden), nn.Tanh(),
        nn.Linear(hidden, classes),
    )


def flat_batched(grads: dict[str, torch.Tensor]) -> torch.Tensor:
    """``(B, P)`` in the canonical order from per-example grads keyed like
    ``named_parameters``; torch keeps kernels as (out, in), hence the transpose."""
    parts = []
    for layer in LAYERS:
        w, b = grads[f"{layer}.weight"], grads[f"{layer}.bias"]
        parts += [w.transpose(-1, -2).reshape(w.shape[0], -1), b]
    return torch.cat(parts, dim=1)


def flat(grads: dict[str, torch.Tensor]) -> torch.Tensor:
    """``(P,)`` in the canonical order."""
    return flat_batched({k: g.unsqueeze(0) for k, g in grads.items()})[0]


class Bench:
    def __init__(self, problem, mode: str, device: torch.device):
        if mode not in ("eager", "compile"):
            raise NotImplementedError(f"torch has no mode {mode!r}")
        hp, w = problem.hyper, problem.init_weights
        self.problem, self.device = problem, device
        self.net = make_mlp(hp["features"], hp["hidden"], hp["classes"]).to(device)
        with torch.no_grad():
            for i, layer in enumerate(LAYERS):
                self.net.get_submodule(layer).weight.copy_(torch.from_numpy(w[f"w{i}"].T.copy()))
                self.net.get_submodule(layer).bias.copy_(torch.from_numpy(w[f"b{i}"]))
        # torch.func works on a plain dict of tensors, detached from the module
        self.params = {k: p.detach() for k, p in self.net.named_parameters()}

        def loss_of_one(params, x, y):
            # vmap strips the batch dimension; the module wants one back
            logits = functional_call(self.net, params, (x.unsqueeze(0),))
            return F.cross_entropy(logits, y.unsqueeze(0))

        def mean_loss(params, x, y):
            return F.cross_entropy(functional_call(self.net, params, (x,)), y)

        def per_example(params, x, y):
            return flat_batched(vmap(grad(loss_of_one), in_dims=(None, 0, 0))(params, x, y))

        def hvp(params, x, y, v):
            # forward-mode derivative of the reverse-mode gradient along v
            _, tangent = jvp(lambda p: grad(mean_loss)(p, x, y), (params,), (v,))
            return flat(tangent)

        def loss(x, y):
            return F.cross_entropy(self.net(x), y)

        if mode == "compile":
            per_example, hvp, loss = (torch.compile(f) for f in (per_example, hvp, loss))
        self.per_example, self.hvp, self.loss = per_example, hvp, loss

    def _put(self, array) -> torch.Tensor:
        tensor = torch.from_numpy(array)
        if tensor.dtype == torch.int32:
            tensor = tensor.long()  # cross_entropy wants int64 class indices
        return tensor.to(self.device)

    def _v_like_params(self) -> dict[str, torch.Tensor]:
        """Splits the flat canonical v into tensors shaped like ``self.params``."""
        v, out, start = self._put(self.problem.data["v"]), {}, 0
        for layer in LAYERS:
            w, b = self.params[f"{layer}.weight"], self.params[f"{layer}.bias"]
            out[f"{layer}.weight"] = v[start : start + w.numel()].view(w.shape[1], w.shape[0]).T
            start += w.numel()
            out[f"{layer}.bias"] = v[start : start + b.numel()]
            start += b.numel()
        return {k: t.contiguous() for k, t in out.items()}

    def operation(self, case: str):
        x, y = self._put(self.problem.data["x"]), self._put(self.problem.data["y"])
        params = self.params
        if case == "per_example_grads":
            return lambda: self.per_example(params, x, y)
        if case == "hvp":
            v = self._v_like_params()
            return lambda: self.hvp(params, x, y, v)
        if case == "per_example_grads_loop":
            loop_batch = self.problem.hyper["loop_batch"]
            weights = [p for _, p in self.net.named_parameters()]
            names = [k for k, _ in self.net.named_parameters()]

            def loop() -> torch.Tensor:
                rows = []
                for i in range(loop_batch):
                    grads = torch.autograd.grad(self.loss(x[i : i + 1], y[i : i + 1]), weights)
                    rows.append(flat(dict(zip(names, grads, strict=True))))
                return torch.stack(rows)

            return loop
        raise NotImplementedError(f"unknown case {case!r}")


def build(problem, mode: str, device: torch.device) -> Bench:
    return Bench(problem, mode, device)
