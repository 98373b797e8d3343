"""inference_latency in PyTorch: the cnn_cifar and transformer_lm models served
through their own ``predict`` (eager, or torch.compile in the compile mode), and
exported with torch.export: ``torch.export.export`` -> ``torch.export.save`` (a
.pt2 archive holding the graph and the weights) -> ``torch.export.load`` ->
``ExportedProgram.module()``, called under ``torch.no_grad`` like ``predict``.
See workload.py for the cases and how the served weights are obtained."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import torch
from torch import nn

TRAIN_MODE = "eager"  # also the mode whose cell measures the exported artefacts


class NHWCServing(nn.Module):
    """The CNN's requests are NHWC images (the canonical layout); torch convolutions
    want NCHW. The permute goes inside the exported graph, as cnn_cifar's predict
    does it inside its forward, so both serve the same request tensor."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.permute(0, 3, 1, 2))


class Bench:
    def __init__(self, problem, mode: str, device: torch.device):
        if mode not in ("eager", "compile"):
            raise NotImplementedError(f"torch has no mode {mode!r}")
        self.problem, self.mode, self.device = problem, mode, torch.device(device)
        self.models: dict = {}
        # exported files live as long as the bench
        self.scratch = tempfile.TemporaryDirectory(prefix="inference-torch-")

    def model(self, net: str):
        """Built, trained and cached on first use, so a case only pays for its net."""
        if net not in self.models:
            self.models[net] = self.problem.neutral.served_model(self.problem, net, "torch", TRAIN_MODE, self.mode,
                                                    self.device)
        return self.models[net]

    def request(self, spec: dict) -> torch.Tensor:
        x = self.problem.place(self.problem.data[f"{spec['net']}_b{spec['batch']}"])
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)  # the copy stays out of the first call
        return x

    def operation(self, case: str):
        spec = self.problem.hyper["cases"][case]
        if spec["kind"] == self.problem.neutral.LITERT:
            raise NotImplementedError("no LiteRT/TFLite exporter in PyTorch (the converter is TensorFlow's)")
        if spec["kind"] == self.problem.neutral.EXPORT and self.mode != TRAIN_MODE:
            raise NotImplementedError(f"exported models are measured in the {TRAIN_MODE} cell")
        model = self.model(spec["net"])
        x = self.request(spec)
        if spec["kind"] == self.problem.neutral.SERVE:
            return lambda: model.predict(x)
        return self.export(spec["net"], model, x)

    def export(self, net: str, model, x: torch.Tensor):
        # cnn_cifar and transformer_lm keep their nn.Module in ``.net``
        module = (NHWCServing(model.net) if net == "cnn" else model.net).eval()
        path = Path(self.scratch.name) / f"{net}.pt2"
        start = time.perf_counter()
        try:
            program = torch.export.export(module, (x,))  # static shapes: batch 1
            torch.export.save(program, path)
        except Exception as err:  # noqa: BLE001 - an exporter failure is an unsupported case
            summary = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise NotImplementedError(f"torch.export failed on {net}: {summary[:200]}") from err
        export_s = time.perf_counter() - start
        del program
        start = time.perf_counter()
        loaded = torch.export.load(path).module()
        load_s = time.perf_counter() - start

        @torch.no_grad()
        def call() -> torch.Tensor:
            return loaded(x)

        return call, {"export_time": ("s", export_s), "export_size": ("bytes", path.stat().st_size),
                      "load_time": ("s", load_s)}


def build(problem, mode: str, device: torch.device) -> Bench:
    return Bench(problem, mode, device)
