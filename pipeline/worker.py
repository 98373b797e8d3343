"""The measured process: one workload, one framework, one mode, once.

Started by :mod:`pipeline.harness` as ``python -m pipeline.worker ARGS_JSON OUT``;
it writes the process's outcome (status, metrics, device, knobs) to ``OUT`` and
the harness adds provenance. Only this process imports the framework.

What is timed (see docs/methodology.md):

* ``time_to_first_step``: the first ``train_step`` call until its result is
  ready: tracing, compilation and one execution, with cold compile caches.
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
from pathlib import Path

from . import knobs, timing
from .metrics import sampled, scalar


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def measure(args: dict) -> dict:
    applied = knobs.apply(args["threads"])
    # imports after the knobs: thread pools size themselves at import time
    from .frameworks import get
    from .registry import load_workload

    fw = get(args["framework"])
    backend = fw.backend()
    applied["framework"] = backend.configure(args["threads"], args["seed"])
    workload = load_workload(Path(args["workload_dir"]))
    plan = dict(workload.profile(args["profile"])["timing"])
    problem = workload.neutral().make_problem(args["seed"], **workload.profile(args["profile"])["size"])

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
    rss_setup = _peak_rss()

    batches = [(backend.put(x, dev), backend.put(y, dev)) for x, y in problem.train_batches]
    infer_x = backend.put(problem.inference_inputs(plan["inference_batch"]), dev)
    backend.sync(None, model, dev)
    backend.reset_peak_memory(dev)
    compiles_before = backend.compile_count(model)

    def sync_on(value):
        backend.sync(value, model, dev)

    losses = []

    def step():
        x, y = batches[len(losses) % len(batches)]
        loss = model.train_step(x, y)
        losses.append(loss)
        return loss

    first_step_s = timing.timed(step, sync_on)
    compiles_first = backend.compile_count(model) - compiles_before
    rss_first = _peak_rss()
    step_s = timing.sample(step, sync_on, plan["warmup_steps"], plan["samples"], plan["steps_per_sample"])
    recompiles = backend.compile_count(model) - compiles_before - compiles_first
    rss_steady = _peak_rss()

    # outside the timed region: a diverged run is recorded, never charted
    values = [float(backend.to_numpy(v)) for v in losses]
    bad = next((i for i, v in enumerate(values) if not math.isfinite(v)), None)
    if bad is not None:
        return {**partial, "status": "non-finite", "reason": f"loss became {values[bad]} at step {bad + 1}",
                "metrics": {}}

    logits = backend.to_numpy(model.predict(backend.put(problem.eval_x, dev)))
    accuracy = float((logits.argmax(axis=1) == problem.eval_y).mean())
    infer_s = timing.sample(lambda: model.predict(infer_x), sync_on,
                            plan["warmup_steps"], plan["samples"], plan["steps_per_sample"])

    batch = problem.batch_size
    step_summary = sampled("s", step_s)
    metrics = {
        "train_throughput": sampled("samples/s", [batch / t for t in step_s]),
        "train_step_time": step_summary,
        "inference_throughput": sampled("samples/s", [plan["inference_batch"] / t for t in infer_s]),
        "time_to_first_step": scalar("s", first_step_s),
        "setup_time": scalar("s", setup_s),
        "accuracy": scalar("fraction", accuracy),
        "final_loss": scalar("nats", values[-1]),
        "compilations_first_step": scalar("count", compiles_first),
        "recompilations_steady_state": scalar("count", recompiles),
        "achieved_flops": scalar("FLOP/s", problem.flops_per_train_step / step_summary["value"]),
        "peak_host_memory_setup": scalar("bytes", rss_setup),
        "peak_host_memory_first_step": scalar("bytes", rss_first),
        "peak_host_memory": scalar("bytes", rss_steady),
        "device_peak_memory": scalar("bytes", backend.device_peak_bytes(dev)),
    }
    plan.update({"batch_size": batch, "train_steps": len(losses),
                 "flops_per_train_step": problem.flops_per_train_step})
    return {**partial, "status": "ok", "reason": None, "timing": plan, "metrics": metrics}


def main(argv: list[str]) -> int:
    args = json.loads(argv[0])
    partial = measure(args)
    with open(argv[1], "w") as handle:
        json.dump(partial, handle, allow_nan=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
