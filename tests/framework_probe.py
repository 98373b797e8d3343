"""Run one implementation briefly in its own process and save what it computed.

``python tests/framework_probe.py WORKLOAD FRAMEWORK MODE OUT.npz``: loads the
workload at its smoke size, records the logits of the untrained model (shared
initial weights), trains ``equivalence_steps`` steps (at least two) on the shared
batches and records every loss and the final logits. The contract and
equivalence tests read the file; each framework stays in a process of its own.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline import knobs  # noqa: E402


def main(workload_name: str, framework: str, mode: str, out: str) -> None:
    knobs.apply(1)  # single-threaded: reductions in a fixed order
    from pipeline.frameworks import get
    from pipeline.registry import WORKLOADS_DIR, load_workload

    backend = get(framework).backend()
    backend.configure(1, 0)
    workload = load_workload(WORKLOADS_DIR / workload_name)
    problem = workload.neutral().make_problem(0, **workload.profile("smoke")["size"])
    dev = backend.device("cpu")
    model = workload.implementation(framework).build(problem, mode, dev)
    loaded = model.weights()
    roundtrip = max(float(np.max(np.abs(loaded[k] - v))) for k, v in problem.init_weights.items())
    x_eval = backend.put(problem.eval_x[:64], dev)
    logits0 = backend.to_numpy(model.predict(x_eval))
    steps = max(2, workload.spec["tolerance"]["equivalence_steps"])
    losses = []
    for i in range(steps):
        x, y = problem.train_batches[i % len(problem.train_batches)]
        losses.append(float(backend.to_numpy(model.train_step(backend.put(x, dev), backend.put(y, dev)))))
    np.savez(
        out,
        logits0=logits0,
        losses=np.array(losses),
        logits_final=backend.to_numpy(model.predict(x_eval)),
        weights_roundtrip=np.array(roundtrip),
        weight_names=np.array(sorted(loaded)),
        expected_names=np.array(sorted(problem.init_weights)),
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
