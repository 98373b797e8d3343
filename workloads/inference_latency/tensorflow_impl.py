"""inference_latency in TensorFlow: the cnn_cifar and transformer_lm models served
through their own ``predict`` (eager, tf.function, or tf.function with XLA), and
exported two ways:

* SavedModel: a ``tf.Module`` holding the Keras network and one ``tf.function``
  with a fixed input signature -> ``tf.saved_model.save`` -> ``tf.saved_model.load``
  -> the loaded ``serving_default`` signature (a concrete function of the graph,
  what TF Serving would call);
* LiteRT (TFLite), the CNN only: ``tf.lite.TFLiteConverter.from_concrete_functions``
  on the same signature -> a .tflite flat buffer on disk -> ``tf.lite.Interpreter``.
  The interpreter runs on the CPU and returns a NumPy array; it is wrapped in a
  tf.Tensor (a ~40-byte copy) because that is what the harness reads back from
  TensorFlow.

See workload.py for the cases and how the served weights are obtained."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import tensorflow as tf

TRAIN_MODE = "eager"  # also the mode whose cell measures the exported artefacts
SIGNATURE = "serving_default"


class Serving(tf.Module):
    """What gets saved: the trained network (its variables are tracked through the
    attribute) and a batch-1 serving function with a static signature."""

    def __init__(self, net, spec: tf.TensorSpec):
        super().__init__()
        self.net = net
        # the tf.Variables under Keras 3's variables, tracked by this module too:
        # without them the TFLite converter cannot map the function's captured
        # handles to variables, leaves them as uninitialised resource variables,
        # and the interpreter computes garbage (NaN); Keras' own ExportArchive
        # tracks them the same way. SavedModel is indifferent.
        self.tf_variables = [v.value for v in net.variables]
        self.serve = tf.function(self._serve, input_signature=[spec])

    def _serve(self, x: tf.Tensor) -> tf.Tensor:
        return self.net(x, training=False)


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def unsupported(what: str, err: Exception) -> NotImplementedError:
    text = str(err).strip()
    summary = text.splitlines()[0] if text else type(err).__name__
    return NotImplementedError(f"{what} failed: {summary[:200]}")


class Bench:
    def __init__(self, problem, mode: str, device: str):
        if mode not in ("eager", "function", "xla"):
            raise NotImplementedError(f"tensorflow has no mode {mode!r}")
        self.problem, self.mode, self.device = problem, mode, device
        self.models: dict = {}
        # the served models' predict functions, where compile_count finds their traces
        self.functions: dict = {}
        self.scratch = tempfile.TemporaryDirectory(prefix="inference-tf-")

    def model(self, net: str):
        """Built, trained and cached on first use, so a case only pays for its net."""
        if net not in self.models:
            model = self.problem.neutral.served_model(self.problem, net, "tensorflow", TRAIN_MODE, self.mode,
                                                      self.device)
            self.models[net] = model
            self.functions[net] = model.predict
        return self.models[net]

    def operation(self, case: str):
        spec = self.problem.hyper["cases"][case]
        if spec["kind"] != self.problem.neutral.SERVE and self.mode != TRAIN_MODE:
            raise NotImplementedError(f"exported models are measured in the {TRAIN_MODE} cell")
        model = self.model(spec["net"])
        x = self.problem.place(self.problem.data[f"{spec['net']}_b{spec['batch']}"])
        if spec["kind"] == self.problem.neutral.SERVE:
            return lambda: model.predict(x)
        # cnn_cifar and transformer_lm keep their Keras network in ``.net``
        module = Serving(model.net, tf.TensorSpec(x.shape, x.dtype))
        if spec["kind"] == self.problem.neutral.EXPORT:
            return self.saved_model(spec["net"], module, x)
        return self.litert(spec["net"], module, x)

    def saved_model(self, net: str, module: Serving, x: tf.Tensor):
        path = Path(self.scratch.name) / f"{net}_saved_model"
        start = time.perf_counter()
        try:
            tf.saved_model.save(module, str(path), signatures={SIGNATURE: module.serve})
        except Exception as err:  # noqa: BLE001 - an exporter failure is an unsupported case
            raise unsupported(f"tf.saved_model.save on {net}", err) from err
        export_s = time.perf_counter() - start
        start = time.perf_counter()
        with tf.device(self.device):
            loaded = tf.saved_model.load(str(path))
        signature = loaded.signatures[SIGNATURE]
        load_s = time.perf_counter() - start
        # a signature takes keyword arguments and returns a dict of named outputs
        (arg,) = signature.structured_input_signature[1]
        (out,) = signature.structured_outputs

        def call() -> tf.Tensor:
            # no device scope per call, as in predict: TF places the ops on the GPU
            # when there is one, and the request is already there
            return signature(**{arg: x})[out]

        # keep the loaded object alive: the signature does not own the variables
        call.loaded = loaded
        return call, {"export_time": ("s", export_s), "export_size": ("bytes", folder_size(path)),
                      "load_time": ("s", load_s)}

    def litert(self, net: str, module: Serving, x: tf.Tensor):
        path = Path(self.scratch.name) / f"{net}.tflite"
        start = time.perf_counter()
        try:
            converter = tf.lite.TFLiteConverter.from_concrete_functions(
                [module.serve.get_concrete_function()], module)
            path.write_bytes(converter.convert())
        except Exception as err:  # noqa: BLE001 - a converter failure is an unsupported case
            raise unsupported(f"TFLiteConverter on {net}", err) from err
        export_s = time.perf_counter() - start
        start = time.perf_counter()
        interpreter = tf.lite.Interpreter(model_path=str(path), num_threads=tf.config.threading
                                          .get_intra_op_parallelism_threads() or None)
        interpreter.allocate_tensors()
        load_s = time.perf_counter() - start
        (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
        request = x.numpy()  # the interpreter reads host memory

        def call() -> tf.Tensor:
            interpreter.set_tensor(inp["index"], request)
            interpreter.invoke()
            return tf.constant(interpreter.get_tensor(out["index"]))

        return call, {"export_time": ("s", export_s), "export_size": ("bytes", path.stat().st_size),
                      "load_time": ("s", load_s)}


def build(problem, mode: str, device: str) -> Bench:
    return Bench(problem, mode, device)
