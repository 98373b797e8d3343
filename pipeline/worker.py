"""The measured process: one workload, one framework, one mode.

Started by :mod:`pipeline.harness` as ``python -m pipeline.worker ARGS_JSON OUT``;
it writes a partial result (status, metrics, device, knobs) to ``OUT`` and the
harness adds provenance. Only this process imports the framework.

What is timed (see docs/methodology.md):

* ``time_to_first_step``: the first ``train_step`` call until its result is
  ready: tracing, compilation and one execution.
* ``warmup_steps`` untimed steps, a fixed count.
* ``samples`` samples of ``steps_per_sample`` steps each, with one device sync at
  the end of every sample; every sample is kept.
* inference: the same warm-up and sample counts over one fixed batch.

Host-to-device copies happen before timing; losses are checked for finiteness
after it, so no per-step sync sits in the timed loop.
"""

from __future__ import annotations

import json
import math
import resource
import sys
import time

from . import knobs

# exit code telling the harness the worker itself recorded the outcome
RECORDED = 0


def _timed(fn, sync) -> float:
    start = time.perf_counter()
    sync(fn())
    return time.perf_counter() - start


def measure(args: dict) -> dict:
    applied = knobs.apply(args["threads"])
    # imports after the knobs: thread pools size themselves at import time
    from pathlib import Path

    from .frameworks import get
    from .registry import load_workload
    from .statistics import summarize

    fw = get(args["framework"])
    backend = fw.backend()
    applied["framework"] = backend.configure(args["threads"], args["seed"])
    workload = load_workload(Path(args["workload_dir"]))
    profile = workload.profile(args["profile"])
    timing = dict(profile["timing"])
    problem = workload.neutral().make_problem(args["seed"], **profile["size"])

    kind = args["device"]
    if kind == "auto":
        seen = backend.visible_accelerators()
        kind = seen[0]["kind"] if seen else "cpu"
    partial = {"device": None, "knobs": applied, "facts": problem.facts}
    try:
        dev = backend.device(kind)
    except NotImplementedError as err:  # e.g. TensorFlow asked for a TPU here
        return {**partial, "status": "unsupported", "reason": str(err), "metrics": {}}
    name = str(dev) if kind == "cpu" else backend.visible_accelerators()[0]["name"]
    partial["device"] = {"kind": kind, "name": name}
    impl = workload.implementation(fw.name)
    setup_start = time.perf_counter()
    try:
        model = impl.build(problem, args["mode"], dev)
    except NotImplementedError as err:
        return {**partial, "status": "unsupported", "reason": str(err) or "not implemented", "metrics": {}}
    setup_s = time.perf_counter() - setup_start
    rss_setup = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    batches = [(backend.put(x, dev), backend.put(y, dev)) for x, y in problem.train_batches]
    infer_x = backend.put(problem.inference_inputs(timing["inference_batch"]), dev)
    backend.sync(None, model, dev)
    backend.reset_peak_memory(dev)

    def sync_on(value):
        backend.sync(value, model, dev)

    step = 0
    losses = []

    def run_steps(count: int):
        nonlocal step
        loss = None
        for _ in range(count):
            x, y = batches[step % len(batches)]
            loss = model.train_step(x, y)
            step += 1
        losses.append(loss)
        return loss

    first_step_s = _timed(lambda: run_steps(1), sync_on)
    rss_first = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    sync_on(run_steps(timing["warmup_steps"]))
    step_times = [
        _timed(lambda: run_steps(timing["steps_per_sample"]), sync_on) for _ in range(timing["samples"])
    ]

    # outside the timed region: a diverged run is recorded, never charted
    values = [float(backend.to_numpy(v)) for v in losses]
    if not all(math.isfinite(v) for v in values):
        bad = next(i for i, v in enumerate(values) if not math.isfinite(v))
        return {**partial, "status": "non-finite", "reason": f"loss became {values[bad]} by step check {bad}",
                "metrics": {}}

    logits = backend.to_numpy(model.predict(backend.put(problem.eval_x, dev)))
    accuracy = float((logits.argmax(axis=1) == problem.eval_y).mean())

    for _ in range(timing["warmup_steps"]):
        sync_on(model.predict(infer_x))
    infer_times = [
        _timed(lambda: [model.predict(infer_x) for _ in range(timing["steps_per_sample"])][-1], sync_on)
        for _ in range(timing["samples"])
    ]

    batch = problem.batch_size
    per_sample_train = [batch * timing["steps_per_sample"] / t for t in step_times]
    per_sample_infer = [timing["inference_batch"] * timing["steps_per_sample"] / t for t in infer_times]
    step_s = [t / timing["steps_per_sample"] for t in step_times]
    median_step = summarize(step_s)["median"]
    metrics = {
        "train_throughput": {"unit": "samples/s", "samples": per_sample_train, "summary": summarize(per_sample_train)},
        "train_step_time": {"unit": "s", "samples": step_s, "summary": summarize(step_s)},
        "time_to_first_step": {"unit": "s", "value": first_step_s},
        "setup_time": {"unit": "s", "value": setup_s},
        "accuracy": {"unit": "fraction", "value": accuracy},
        "final_loss": {"unit": "nats", "value": values[-1]},
        "inference_throughput": {"unit": "samples/s", "samples": per_sample_infer,
                                 "summary": summarize(per_sample_infer)},
        "achieved_flops": {"unit": "FLOP/s", "value": problem.flops_per_train_step / median_step},
        "peak_host_memory_setup": {"unit": "bytes", "value": rss_setup},
        "peak_host_memory_first_step": {"unit": "bytes", "value": rss_first},
        "peak_host_memory": {"unit": "bytes", "value": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024},
        "device_peak_memory": {"unit": "bytes", "value": backend.device_peak_bytes(dev)},
    }
    timing.update({"batch_size": batch, "train_steps": step})
    return {**partial, "status": "ok", "reason": None, "timing": timing, "metrics": metrics}


def main(argv: list[str]) -> int:
    args = json.loads(argv[0])
    out = argv[1]
    partial = measure(args)
    with open(out, "w") as handle:
        json.dump(partial, handle, allow_nan=False)
    return RECORDED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
