"""Timing an operations workload (micro-benchmarks, inference): case by case.

For each case: ``operation(case)`` prepares it (inputs placed, models exported)
outside any timed region; the first call is timed cold (trace and compilation
included) and its output is checked against the workload's NumPy reference;
then ``warmup_steps`` untimed calls and ``samples`` samples. A latency case syncs
after every call (one call per sample, so percentiles are per request); a
throughput case syncs once per sample of ``repeat`` calls.

A case that a framework cannot do, that crashes in Python, or whose output is
wrong is recorded with its reason; the other cases still run.
"""

from __future__ import annotations

import traceback

import numpy as np

from pipeline.contract import Case
from pipeline.core.metrics import SEVERITY, sampled, scalar
from pipeline.measure import timing

from . import Session, output_sample, peak_rss


def relative_error(output: np.ndarray, expected: np.ndarray) -> float:
    """Largest absolute difference, relative to the largest expected magnitude."""
    output, expected = np.asarray(output, np.float64), np.asarray(expected, np.float64)
    if output.shape != expected.shape:
        raise ValueError(f"output shape {output.shape} is not the expected {expected.shape}")
    scale = float(np.max(np.abs(expected))) or 1.0
    return float(np.max(np.abs(output - expected))) / scale


def run_case(session: Session, problem, bench, name: str, case: Case, rtol: float) -> tuple[dict, dict]:
    """(metrics, status) of one case; metric names are ``<case>/<metric>``."""
    if case.precision not in session.native:
        return {}, {"status": "unsupported",
                    "reason": f"this {session.device_kind} device has no native {case.precision} arithmetic"}
    try:
        prepared = bench.operation(name)
    except NotImplementedError as err:
        return {}, {"status": "unsupported", "reason": str(err) or "not implemented"}
    fn, extras = prepared if isinstance(prepared, tuple) else (prepared, {})
    sync = session.syncer(bench)
    before = session.compiles(bench)
    fell_back = session.fallbacks(bench)
    outputs = []

    def first():
        outputs.append(fn())
        return outputs[-1]

    first_s = timing.timed(first, sync)
    compiles_first = session.compiles(bench) - before
    output = np.asarray(session.numpy(outputs.pop()), dtype=np.float64)
    if not np.all(np.isfinite(output)):
        return {}, {"status": "non-finite", "reason": "the first call's output has NaN or infinite values"}
    session.evidence.setdefault("cases", {})[name] = output_sample(output)
    metrics = {f"{name}/{key}": scalar(unit, value) for key, (unit, value) in extras.items()}
    expected = problem.reference(name) if problem.reference else None
    status = {"status": "ok", "reason": None}
    if expected is not None:
        error = relative_error(output, expected)
        metrics[f"{name}/error"] = scalar("relative", error)
        if error > (case.rtol or rtol):
            status = {"status": "incorrect",
                      "reason": f"output differs from the reference by {error:.3g} (tolerance {case.rtol or rtol:g})"}
    plan = session.plan
    per_sample = 1 if case.latency else case.repeat
    seconds = timing.sample(fn, sync, plan["warmup_steps"], plan["samples"], per_sample)
    metrics.update({
        f"{name}/time": sampled("s", seconds),
        f"{name}/throughput": sampled(f"{case.unit}/s", [case.work / t for t in seconds]),
        session.first(f"{name}/first_call"): scalar("s", first_s),
        f"{name}/compilations": scalar("count", compiles_first),
        f"{name}/recompilations": scalar("count", session.compiles(bench) - before - compiles_first),
    })
    session.record_fallbacks(bench, fell_back, metrics, f"{name}/graph_breaks", f"{name}/retracings")
    return metrics, status


def measure(session: Session, workload, problem, impl, mode: str) -> dict:
    bench = impl.build(problem, mode, session.dev)
    rtol = workload.tolerance["output_rtol"]
    metrics, cases = {}, {}
    for name, case in problem.cases.items():
        try:
            found, status = run_case(session, problem, bench, name, case, rtol)
        except Exception as err:  # noqa: BLE001 - one broken case must not hide the others
            last = traceback.format_exception_only(err)[-1].strip()
            found, status = {}, {"status": "crashed", "reason": last[:300]}
        metrics.update(found)
        cases[name] = status
    metrics["peak_host_memory"] = scalar("bytes", peak_rss())
    metrics["device_peak_memory"] = scalar("bytes", session.backend.device_peak_bytes(session.dev))
    ok = [n for n, c in cases.items() if c["status"] == "ok"]
    plan = {**session.plan, "cases": {n: {"work": c.work, "unit": c.unit, "latency": c.latency,
                                          "precision": c.precision, "repeat": c.repeat, "rtol": c.rtol}
                                      for n, c in problem.cases.items()},
            "samples_taken": min((len(metrics[f"{n}/time"]["samples"]) for n in ok), default=0)}
    if ok:
        return {"status": "ok", "reason": None, "timing": plan, "metrics": metrics, "cases": cases,
                "evidence": session.evidence, "graph_break_reasons": session.graph_break_reasons}
    worst = max(cases.values(), key=lambda c: SEVERITY[c["status"]], default=None)
    if worst is None:
        return {"status": "unsupported", "reason": "the workload declares no cases", "metrics": {}, "cases": {}}
    return {**worst, "reason": f"no case ran: {worst['reason']}", "timing": plan, "metrics": metrics,
            "cases": cases, "graph_break_reasons": session.graph_break_reasons}
