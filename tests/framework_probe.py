"""Run one implementation briefly in its own process and save what it computed.

``python tests/framework_probe.py WORKLOAD FRAMEWORK MODE OUT.npz [PRECISION]``
loads the workload (a name under ``workloads/``, or a folder's path) at its smoke size.

Training workloads: records the logits of the untrained model (shared initial
weights), trains ``equivalence_steps`` steps (at least two) on the shared batches,
records every loss, the final logits, ``weights()`` before and after the steps and,
where the model can ``save`` and ``restore``, how far a restored fresh model's
logits are from the trained one's. A mode ``build`` refuses with NotImplementedError
is saved as ``unsupported`` with the reason. A data-parallel workload's probe also trains its
single-device version the same steps (``single:losses``, ``single:trained:<name>``). At a
precision other than fp32 it records the losses only (what the bf16 test compares).

Operations workloads: calls every case once and records its output
(``out:<case>``) or why it is unsupported (``unsupported:<case>``).

At fp32 it then runs the cell's measuring protocol at the smoke size, as a measured
process does, and saves its outcome as JSON (``protocol``).

The contract and equivalence tests read the file; each framework stays in a
process of its own, as in the harness.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.measure import knobs  # noqa: E402


def train(model, problem, backend, dev, steps: int) -> list[float]:
    """``steps`` training steps on the shared batches, in order; their losses."""
    losses = []
    for i in range(steps):
        batch = problem.train_batches[i % len(problem.train_batches)]
        losses.append(float(backend.to_numpy(model.train_step(*(backend.put(a, dev) for a in batch)))))
    return losses


def probe_training(workload, problem, impl, backend, mode, dev, losses_only: bool = False) -> dict:
    """``losses_only``: train and record the losses, nothing else (what a precision other
    than fp32 is compared by; predictions and checkpoints are checked at fp32)."""
    try:
        model = impl.build(problem, mode, dev)
    except NotImplementedError as err:  # recorded as unsupported by the harness too
        return {"unsupported": np.array(str(err))}
    steps = max(2, workload.tolerance["equivalence_steps"])
    if losses_only:
        return {"losses": np.array(train(model, problem, backend, dev, steps))}
    loaded = model.weights()
    x_eval = backend.put(problem.eval_x[:64], dev)
    logits0 = backend.to_numpy(model.predict(x_eval))
    losses = train(model, problem, backend, dev, steps)
    logits_final = backend.to_numpy(model.predict(x_eval))
    trained = model.weights()
    out = {
        "logits0": logits0,
        "losses": np.array(losses),
        "logits_final": logits_final,
        # weights() right after build, by canonical name: the shared weights, exactly
        **{f"initial:{k}": np.asarray(v) for k, v in loaded.items()},
        "weight_names": np.array(sorted(loaded)),
        "expected_names": np.array(sorted(problem.init_weights)),
        # the weights after the steps, by canonical name: a parameter the model holds
        # but does not use (or uses in the wrong place) trains differently
        **{f"trained:{k}": np.asarray(v) for k, v in trained.items()},
    }
    if hasattr(model, "save") and hasattr(model, "restore"):
        with tempfile.TemporaryDirectory() as folder:
            model.save(folder)
            fresh = impl.build(problem, mode, dev)
            fresh.restore(folder)
            restored = backend.to_numpy(fresh.predict(x_eval))
        out["checkpoint_error"] = np.array(float(np.max(np.abs(restored - logits_final))))
    return out


def probe_operations(problem, impl, backend, mode, dev) -> dict:
    bench = impl.build(problem, mode, dev)
    out = {}
    for case in problem.cases:
        try:
            prepared = bench.operation(case)
        except NotImplementedError as err:
            out[f"unsupported:{case}"] = np.array(str(err) or "not implemented")
            continue
        fn = prepared[0] if isinstance(prepared, tuple) else prepared
        out[f"out:{case}"] = np.asarray(backend.to_numpy(fn()), dtype=np.float64)
    return out


def main(workload_name: str, framework: str, mode: str, out: str, precision: str = "fp32") -> None:
    knobs.apply(1)  # single-threaded: reductions in a fixed order
    from pipeline.core.frameworks import get
    from pipeline.core.registry import WORKLOADS_DIR, load_workload

    fw = get(framework)
    os.environ.update(fw.mode_env.get(mode, {}))
    # a path names a workload folder elsewhere (a test's deliberately wrong copy)
    workload = load_workload(Path(workload_name) if "/" in workload_name else WORKLOADS_DIR / workload_name)
    replicas = workload.replicas("smoke")
    knobs.emulate_devices(replicas)  # as the worker does, before the framework starts
    backend = fw.backend()
    if replicas > 1 and hasattr(backend, "emulate_devices"):
        backend.emulate_devices(replicas)
    backend.configure(1, 0)
    problem = workload.make_problem(0, **workload.profile("smoke")["size"])
    if precision != "fp32":
        problem = dataclasses.replace(problem, hyper={**problem.hyper, "precision": precision})
    dev = backend.device("cpu")
    problem.place = lambda array: backend.put(array, dev)  # as the worker hands it over
    impl = workload.implementation(framework)
    if workload.is_training:
        arrays = probe_training(workload, problem, impl, backend, mode, dev, losses_only=precision != "fp32")
        if workload.single_device and "unsupported" not in arrays and precision == "fp32":
            # the single-device version on the same global batches: the trajectory to follow
            single = workload.used()[workload.single_device].implementation(framework)
            reference = probe_training(workload, problem, single, backend, mode, dev)
            arrays.update({f"single:{k}": v for k, v in reference.items() if k == "losses" or k.startswith("trained:")})
    else:
        arrays = probe_operations(problem, impl, backend, mode, dev)
    if precision == "fp32":
        # the cell's measuring protocol at the smoke size, as a measured process runs it
        # (the harness's own process handling is tested on a few cells in the workflow tier)
        from pipeline.measure.worker import time_cell

        fresh = workload.make_problem(0, **workload.profile("smoke")["size"])
        outcome = time_cell(backend, dev, "cpu", workload, fresh, framework, mode, "smoke")
        arrays["protocol"] = np.array(json.dumps(outcome, default=str))
    np.savez(out, **arrays)


if __name__ == "__main__":
    main(*sys.argv[1:])
