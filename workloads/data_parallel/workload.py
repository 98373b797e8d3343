"""data_parallel, framework-neutral part: mlp_digits' problem, split over replicas."""

from __future__ import annotations

from pipeline.contract import Problem


def make_problem(seed: int, hidden: int, batch: int, lr: float, replicas: int, used) -> Problem:
    """mlp_digits' data, initial weights and batches at the same size; each step's global
    batch of ``batch`` examples is split into ``replicas`` equal shards, so the averaged
    gradient is the single-device one."""
    if replicas < 1 or batch % replicas:
        raise ValueError(f"batch {batch} does not split into {replicas} equal shards")
    problem = used["mlp_digits"].make_problem(seed, hidden=hidden, batch=batch, lr=lr)
    problem.hyper["replicas"] = replicas
    problem.facts.update(replicas=replicas, per_replica_batch=batch // replicas)
    return problem
