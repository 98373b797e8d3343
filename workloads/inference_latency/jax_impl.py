"""inference_latency in JAX: the cnn_cifar and transformer_lm Flax models served
through their own jitted ``predict``, and exported with ``jax.export``:
``jax.export.export(jax.jit(f))`` on a batch-1 ``ShapeDtypeStruct`` -> StableHLO
serialized to a file -> ``jax.export.deserialize`` -> ``Exported.call``.

``f`` closes over the trained parameters, so they are baked into the exported
module as constants: the file is self-contained like a .pt2 archive or a
SavedModel (which hold their weights too), and the loaded artefact needs no
Python model code and no checkpoint. The loaded ``call`` is wrapped in
``jax.jit``, as the JAX documentation does for repeated calls: it is compiled once,
on the first request, then served from the compilation cache.

See workload.py for the cases and how the served weights are obtained."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import jax

MODE = "jit"  # JAX's only mode: training, serving and exports all run here


class Bench:
    def __init__(self, problem, mode: str, device: jax.Device):
        if mode != MODE:
            raise NotImplementedError(f"jax has no mode {mode!r}")
        self.problem, self.device = problem, device
        self.models: dict = {}
        self.scratch = tempfile.TemporaryDirectory(prefix="inference-jax-")

    def model(self, net: str):
        """Built, trained and cached on first use, so a case only pays for its net."""
        if net not in self.models:
            self.models[net] = self.problem.neutral.served_model(self.problem, net, "jax", MODE, MODE, self.device)
        return self.models[net]

    def operation(self, case: str):
        spec = self.problem.hyper["cases"][case]
        if spec["kind"] == self.problem.neutral.LITERT:
            raise NotImplementedError("no LiteRT/TFLite exporter in JAX (the converter is TensorFlow's)")
        model = self.model(spec["net"])
        x = self.problem.place(self.problem.data[f"{spec['net']}_b{spec['batch']}"])
        if spec["kind"] == self.problem.neutral.SERVE:
            return lambda: model.predict(x)
        return self.export(spec["net"], model, x)

    def export(self, net: str, model, x: jax.Array):
        path = Path(self.scratch.name) / f"{net}.stablehlo"
        start = time.perf_counter()
        try:
            # the model's predict reads its trained state: constants in the export
            exported = jax.export.export(jax.jit(model.predict))(jax.ShapeDtypeStruct(x.shape, x.dtype))
            path.write_bytes(exported.serialize())
        except Exception as err:  # noqa: BLE001 - an exporter failure is an unsupported case
            text = str(err).strip()
            summary = text.splitlines()[0] if text else type(err).__name__
            raise NotImplementedError(f"jax.export failed on {net}: {summary[:200]}") from err
        export_s = time.perf_counter() - start
        start = time.perf_counter()
        loaded = jax.export.deserialize(bytearray(path.read_bytes()))
        load_s = time.perf_counter() - start
        call = jax.jit(loaded.call)
        return (lambda: call(x)), {"export_time": ("s", export_s), "export_size": ("bytes", path.stat().st_size),
                                   "load_time": ("s", load_s)}


def build(problem, mode: str, device: jax.Device) -> Bench:
    return Bench(problem, mode, device)
