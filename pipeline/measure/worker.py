"""The measured process: one workload, one framework, one mode, once.

Started by :mod:`pipeline.measure.harness` as ``python -m pipeline.measure.worker ARGS_JSON OUT``;
it writes the process's outcome (status, metrics, device, knobs, per-case
statuses) to ``OUT`` and the harness adds provenance. Only this process imports
the framework. Around what it times it reads the calibration canary and what
else the machine ran (:mod:`pipeline.measure.canary`, :mod:`pipeline.measure.interference`).
What is timed depends on the workload's task: see :mod:`pipeline.protocols.training`
and :mod:`pipeline.protocols.operations`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from pipeline.contract import REPLICAS
from pipeline.measure import canary, hardware, interference, knobs, timing
from pipeline.measure.protocols import Session, operations, training


def measure(args: dict) -> dict:
    applied = knobs.apply(args["threads"], args.get("compile_cache"))
    # imported here, after the knobs: nothing that may start a framework loads before its
    # threads, environment and emulated devices are set (the only function-level imports left)
    from pipeline.core.frameworks import get

    fw = get(args["framework"])
    # e.g. KERAS_BACKEND: read once, when the framework is imported
    os.environ.update(fw.mode_env.get(args["mode"], {}))
    applied["env"].update(fw.mode_env.get(args["mode"], {}))
    from pipeline.core.registry import load_workload

    workload = load_workload(Path(args["workload_dir"]))
    size = {**workload.profile(args["profile"])["size"], **(args.get("options") or {})}
    # a data-parallel workload's emulated devices exist only if made before the framework starts
    replicas = int(size.get(REPLICAS, 1))
    applied["env"].update(knobs.emulate_devices(replicas))
    backend = fw.backend()
    if replicas > 1 and hasattr(backend, "emulate_devices"):
        backend.emulate_devices(replicas)
    applied["framework"] = backend.configure(args["threads"], args["seed"])
    problem = workload.make_problem(args["seed"], **size)

    kind = args["device"]
    if kind == "auto":
        seen = backend.visible_accelerators()
        kind = seen[0]["kind"] if seen else "cpu"
    partial = {"device": None, "knobs": applied, "facts": problem.facts, "cases": {}}
    try:
        dev = backend.device(kind)
    except NotImplementedError as err:  # e.g. TensorFlow asked for a TPU here
        return {**partial, "status": "unsupported", "reason": str(err), "metrics": {}}
    name = str(dev) if kind == "cpu" else backend.visible_accelerators()[0]["name"]
    partial["device"] = {"kind": kind, "name": name}
    return {**partial, **time_cell(backend, dev, kind, workload, problem, fw.name, args["mode"], args["profile"],
                                   applied["warm_cache"])}


def time_cell(backend, dev, kind: str, workload, problem, framework: str, mode: str, profile: str,
              warm_cache: bool = False) -> dict:
    """The cell's protocol on a started framework: status, reason, metrics, cases, evidence,
    and what else ran meanwhile. The contract tier's probe calls it too, so every cell's
    protocol runs in the tests without a process of its own."""
    session = Session(backend=backend, dev=dev, device_kind=kind,
                      native=hardware.native_precisions(kind, backend.bf16_supported(dev)),
                      plan=dict(workload.profile(profile)["timing"]), warm_cache=warm_cache,
                      evidence_steps=int(workload.tolerance["equivalence_steps"]))
    problem.place = session.put  # the contract's placement, as the protocols place batches
    protocol = training if workload.is_training else operations
    impl = workload.implementation(framework)
    before = canary.read()
    # what else ran is read over the timed samples only (timing.sample resumes and pauses it)
    window = interference.Window()
    timing.observe(window)
    try:
        outcome = protocol.measure(session, workload, problem, impl, mode)
    except NotImplementedError as err:
        return {"status": "unsupported", "reason": str(err) or "not implemented", "metrics": {}}
    finally:
        timing.observe(None)
    busy = window.record()
    return {**outcome, "interference": busy, "canary": {"before": before, "after": canary.read()}}


def main(argv: list[str]) -> int:
    args = json.loads(argv[0])
    partial = measure(args)
    with open(argv[1], "w") as handle:
        json.dump(partial, handle, allow_nan=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
