"""Timing a training workload: one ``Model`` per precision, same protocol each.

For every precision: ``time_to_first_step`` (tracing, compilation and one
execution, cold caches), ``warmup_steps`` untimed steps, ``samples`` samples of
``steps_per_sample`` steps with one device sync per sample. For fp32 only, after
training: held-out accuracy, inference samples, and the checkpoint round trip
where the model can ``save`` and ``restore``. Losses are checked for finiteness
after timing, so no per-step sync sits in the timed loop.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time

import numpy as np

from pipeline.core.metrics import sampled, scalar
from pipeline.measure import timing

from . import Session, first_non_finite, peak_rss


def _suffix(precision: str) -> str:
    return "" if precision == "fp32" else f"_{precision}"


def train_phase(session: Session, problem, impl, mode: str, precision: str) -> tuple[dict, object, dict | None]:
    """Build, time the first and the steady-state steps. Returns (metrics, model, failure)."""
    plan, s = session.plan, _suffix(precision)
    if precision != "fp32":
        problem = dataclasses.replace(problem, hyper={**problem.hyper, "precision": precision})
    start = time.perf_counter()
    model = impl.build(problem, mode, session.dev)
    setup_s = time.perf_counter() - start
    rss_setup = peak_rss()
    batches = [tuple(session.put(a) for a in batch) for batch in problem.train_batches]
    sync = session.syncer(model)
    sync(None)
    session.backend.reset_peak_memory(session.dev)
    before = session.compiles(model)
    fell_back = session.fallbacks(model)
    losses = []

    def step():
        loss = model.train_step(*batches[len(losses) % len(batches)])
        losses.append(loss)
        return loss

    first_s = timing.timed(step, sync)
    compiles_first = session.compiles(model) - before
    rss_first = peak_rss()
    step_s = timing.sample(step, sync, plan["warmup_steps"], plan["samples"], plan["steps_per_sample"])
    recompiles = session.compiles(model) - before - compiles_first
    values = [float(session.numpy(v)) for v in losses]
    bad = first_non_finite(values)
    if bad is not None:
        reason = f"{precision}: loss became {values[bad]} at step {bad + 1}"
        return {}, model, {"status": "non-finite", "reason": reason}
    if precision == "fp32":
        # the first steps' losses: what `verify` compares with the machine's reference cell
        session.evidence["losses"] = values[:session.evidence_steps]
    step_summary = sampled("s", step_s)
    units = problem.units_per_step
    metrics = {
        f"train_throughput{s}": sampled(f"{problem.unit}/s", [units / t for t in step_s]),
        f"train_step_time{s}": step_summary,
        session.first(f"time_to_first_step{s}"): scalar("s", first_s),
        f"final_loss{s}": scalar("nats", values[-1]),
        f"compilations_first_step{s}": scalar("count", compiles_first),
        f"recompilations_steady_state{s}": scalar("count", recompiles),
        f"achieved_flops{s}": scalar("FLOP/s", problem.flops_per_train_step / step_summary["value"]),
    }
    # over the first step and the steady state alike: a later recompilation can break too
    session.record_fallbacks(model, fell_back, metrics, f"graph_breaks{s}", f"retracings{s}")
    if precision == "fp32":
        metrics.update({
            "setup_time": scalar("s", setup_s),
            "peak_host_memory_setup": scalar("bytes", rss_setup),
            "peak_host_memory_first_step": scalar("bytes", rss_first),
            "peak_host_memory": scalar("bytes", peak_rss()),
            "device_peak_memory": scalar("bytes", session.backend.device_peak_bytes(session.dev)),
        })
    return metrics, model, None


def evaluate(session: Session, problem, model) -> dict:
    plan = session.plan
    sync = session.syncer(model)
    logits = session.numpy(model.predict(session.put(problem.eval_x)))
    accuracy = float((logits.argmax(axis=-1) == problem.eval_y).mean())
    infer_x = session.put(problem.inference_inputs(plan["inference_batch"]))
    infer_s = timing.sample(lambda: model.predict(infer_x), sync,
                            plan["warmup_steps"], plan["samples"], plan["steps_per_sample"])
    return {
        "accuracy": scalar("fraction", accuracy),
        "inference_throughput": sampled("samples/s", [plan["inference_batch"] / t for t in infer_s]),
    }


def checkpoint(session: Session, problem, impl, mode: str, model) -> dict:
    """Save, build a fresh model, restore it, and check it predicts the same."""
    x = session.put(problem.eval_x[:64])
    expected = session.numpy(model.predict(x))
    with tempfile.TemporaryDirectory(prefix="checkpoint-") as folder:
        save_s = timing.timed(lambda: model.save(folder), lambda _: None)
        size = sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(folder) for f in files)
        fresh = impl.build(problem, mode, session.dev)
        restore_s = timing.timed(lambda: fresh.restore(folder), lambda _: None)
        restored = session.numpy(fresh.predict(x))
    return {
        "checkpoint_save_time": scalar("s", save_s),
        "checkpoint_restore_time": scalar("s", restore_s),
        "checkpoint_size": scalar("bytes", size),
        "checkpoint_max_difference": scalar("logit", float(np.max(np.abs(restored - expected)))),
    }


def measure(session: Session, workload, problem, impl, mode: str) -> dict:
    """The process's outcome: status, reason, metrics, per-precision notes."""
    metrics, model, failure = train_phase(session, problem, impl, mode, "fp32")
    if failure:
        return {**failure, "metrics": {}, "cases": {}}
    metrics.update(evaluate(session, problem, model))
    if hasattr(model, "save") and hasattr(model, "restore"):
        metrics.update(checkpoint(session, problem, impl, mode, model))
    del model
    cases = {"fp32": {"status": "ok", "reason": None}}
    for precision in workload.spec.get("precisions", ["fp32"]):
        if precision == "fp32":
            continue
        if precision not in session.native:
            cases[precision] = {"status": "unsupported",
                                "reason": f"this {session.device_kind} device has no native {precision} arithmetic"}
            continue
        try:
            extra, _, failure = train_phase(session, problem, impl, mode, precision)
        except NotImplementedError as err:
            extra, failure = {}, {"status": "unsupported", "reason": str(err) or "not implemented"}
        metrics.update(extra)
        cases[precision] = failure or {"status": "ok", "reason": None}
    plan = dict(session.plan)
    plan.update({"batch_size": problem.batch_size, "units_per_step": problem.units_per_step,
                 "unit": problem.unit, "train_steps": 1 + plan["warmup_steps"]
                 + plan["samples"] * plan["steps_per_sample"],
                 "flops_per_train_step": problem.flops_per_train_step,
                 "samples_taken": len(metrics["train_throughput"]["samples"])})
    return {"status": "ok", "reason": None, "timing": plan, "metrics": metrics, "cases": cases,
            "evidence": session.evidence, "graph_break_reasons": session.graph_break_reasons}
