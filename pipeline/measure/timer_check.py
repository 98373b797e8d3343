"""Check the harness's clock against independent timers.

Times one simple function (a 256 x 256 float32 matrix product in NumPy) with
:func:`pipeline.timing.sample`, the code the harness times every cell with, and
with ``timeit`` and, where PyTorch is installed, ``torch.utils.benchmark.Timer``.
It repeats the comparison several rounds to show the run-to-run spread on this
machine. A benchmark, not a test: it prints a table and writes JSON for the
Methodology page; nothing asserts on the times.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import statistics
import timeit

import numpy as np

from pipeline.measure import hardware, timing

SIZE = 256
CALLS = 200


def _function():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((SIZE, SIZE), dtype=np.float32)
    b = rng.standard_normal((SIZE, SIZE), dtype=np.float32)
    return lambda: a @ b


def one_round(fn) -> dict[str, float]:
    """Median seconds per call by each timer."""
    out = {"harness": statistics.median(timing.sample(fn, lambda _: None, warmup=20, samples=15,
                                                      per_sample=CALLS))}
    out["timeit"] = statistics.median(t / CALLS for t in timeit.repeat(fn, repeat=15, number=CALLS))
    if importlib.util.find_spec("torch") is not None:
        from torch.utils.benchmark import Timer

        measurement = Timer(stmt="fn()", globals={"fn": fn}, num_threads=1).blocked_autorange(min_run_time=1.0)
        out["torch.utils.benchmark"] = measurement.median
    return out


def run(rounds: int = 5) -> dict:
    fn = _function()
    results = [one_round(fn) for _ in range(rounds)]
    timers = list(results[0])
    summary = {}
    for name in timers:
        values = [r[name] for r in results]
        ratios = [r[name] / r["harness"] for r in results]
        summary[name] = {
            "median_s": statistics.median(values),
            "min_s": min(values),
            "max_s": max(values),
            "run_to_run_spread": (max(values) - min(values)) / statistics.median(values),
            "ratio_to_harness": statistics.median(ratios),
            "ratio_min": min(ratios),
            "ratio_max": max(ratios),
        }
    return {
        "machine_id": hardware.machine_id(),
        "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "function": f"NumPy {SIZE}x{SIZE} float32 matrix product, {CALLS} calls per sample",
        "numpy": np.__version__,
        "rounds": rounds,
        "per_round": results,
        "summary": summary,
    }


def table(report: dict) -> str:
    lines = [f"{report['function']}, {report['rounds']} rounds on {report['machine_id']}",
             f"{'timer':<24}{'median µs/call':>16}{'min':>10}{'max':>10}{'spread':>9}{'vs harness':>12}"]
    for name, s in report["summary"].items():
        lines.append(f"{name:<24}{s['median_s'] * 1e6:>16.2f}{s['min_s'] * 1e6:>10.2f}{s['max_s'] * 1e6:>10.2f}"
                     f"{100 * s['run_to_run_spread']:>8.1f}%{s['ratio_to_harness']:>11.3f}x")
    return "\n".join(lines)
