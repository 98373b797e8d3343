"""Run a cell's processes, each a child with a hard timeout and a memory limit,
and record the outcome.

This process never imports a framework. Whatever happens in a child (an
unsupported mode, a crash, a hang, a NaN, memory exhaustion), the cell gets one
result file, written atomically, with a status per process and the tail of
stderr; other cells' files are never touched.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from pipeline import REPO_ROOT, SCHEMA_VERSION
from pipeline.core import privacy, quiet, results
from pipeline.core.config import default_memory_limit_mb
from pipeline.core.frameworks import FRAMEWORKS
from pipeline.core.metrics import combine
from pipeline.core.registry import Workload
from pipeline.measure import hardware, lifetime, provenance

STDERR_TAIL_CHARS = 4000
OOM_MARKERS = ("MemoryError", "out of memory", "RESOURCE_EXHAUSTED", "OutOfMemoryError", "std::bad_alloc")
POLL_S = 0.05


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def _classify(returncode: int, stderr_tail: str, oom_killed: bool | None) -> tuple[str, str]:
    """``oom_killed``: the kernel's OOM killer counted a kill while the child ran
    (None: its counter is unreadable here)."""
    if any(marker in stderr_tail for marker in OOM_MARKERS):
        return "out-of-memory", "the process ran out of memory (its output says so)"
    if returncode < 0:
        name = lifetime.signal_name(-returncode)
        if returncode == -signal.SIGKILL and oom_killed:
            return "out-of-memory", "killed by the kernel's OOM killer (SIGKILL)"
        unknown = " (the kernel's OOM-kill counter is unreadable here)" if oom_killed is None else ""
        return "killed", f"killed by signal {-returncode} ({name}) from outside the harness{unknown}"
    last = next((line for line in reversed(stderr_tail.strip().splitlines()) if line.strip()), "")
    return "crashed", f"exit code {returncode}: {last[:300]}" if last else f"exit code {returncode}"


def _run_child(args: dict, timeout_s: float, memory_limit_mb: int) -> tuple[dict, str, float]:
    """Start the worker, watch its time and memory, and say what became of it."""
    with tempfile.TemporaryDirectory(prefix="cell-") as tmp:
        out = Path(tmp) / "partial.json"
        err_path = Path(tmp) / "stderr.txt"
        start = time.perf_counter()
        outcome = None
        kills_before = lifetime.oom_kills()
        with open(err_path, "w") as err:
            # a session of its own, so a kill also stops compiler workers it spawned,
            # and a parent-death signal, so it never outlives this harness; its temporary
            # files (compile caches, rendezvous stores) live in this folder and go with it
            child = subprocess.Popen(
                [sys.executable, "-m", "pipeline.measure.worker", json.dumps(args), str(out)],
                stdout=err, stderr=subprocess.STDOUT, start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1", "TMPDIR": tmp}, preexec_fn=lifetime.die_with_parent,
            )
            try:
                watched = psutil.Process(child.pid)
                peak = 0
                while child.poll() is None:
                    elapsed = time.perf_counter() - start
                    peak = max(peak, _tree_rss(watched))
                    if elapsed > timeout_s:
                        outcome = ("timeout", f"no result after {timeout_s:g} s; the process was killed")
                    elif peak > memory_limit_mb * 2**20:
                        outcome = ("out-of-memory", f"used {peak / 2**20:,.0f} MiB, over the limit of "
                                   f"{memory_limit_mb:,} MiB; the process was killed")
                    if outcome:
                        break
                    time.sleep(POLL_S)
            finally:
                # a timeout, the memory limit, or this harness being stopped (Ctrl-C,
                # SIGTERM): the worker's whole group goes, whatever it started
                if child.poll() is None or outcome:
                    try:
                        os.killpg(child.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    child.wait()
        kills_after = lifetime.oom_kills()
        duration = time.perf_counter() - start
        # kept with the result and shown on the site: no local path or user name in it
        tail = privacy.scrub(err_path.read_text(errors="replace"), REPO_ROOT, Path.home())[-STDERR_TAIL_CHARS:]
        if outcome is None and child.returncode == 0 and out.is_file():
            return json.loads(out.read_text()), tail, duration
        oom = None if kills_before is None or kills_after is None else kills_after > kills_before
        status, reason = outcome or _classify(child.returncode, tail, oom)
        return {"status": status, "reason": reason, "metrics": {}, "device": None, "cases": {},
                "knobs": {"threads": args["threads"]}}, tail, duration


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def run_process(workload: Workload, framework: str, mode: str, profile: str, index: int = 0,
                device: str = "auto", threads: int = 1, seed: int = 0, timeout_s: float = 1200,
                memory_limit_mb: int | None = None, options: dict | None = None,
                compile_cache: str | None = None, reruns: int = quiet.RERUNS,
                run_id: str | None = None) -> dict:
    """One measured process, as a result with a single entry in ``processes``.
    ``options`` are extra ``make_problem`` keywords from the config (a local data set);
    ``compile_cache`` a folder shared by the cell's processes (None: a fresh one); process 0
    (every attempt of it) starts it empty, so it measures the cold start.
    A process that ran beside other work is started again up to ``reruns`` times; every
    attempt is kept in the record, and if all were contended the process is recorded as
    ``contended``. A canary that drifted flags the process (``canary_drift``) without a
    re-run. ``run_id`` names the DAG run the process belongs to."""
    args = {"workload_dir": str(workload.folder), "framework": framework, "mode": mode, "profile": profile,
            "device": device, "threads": threads, "seed": seed, "options": options or {},
            "compile_cache": compile_cache}
    run_id = run_id or provenance.run_id()
    attempts = []
    while True:
        if compile_cache is not None and index == 0:
            shutil.rmtree(compile_cache, ignore_errors=True)
        if compile_cache is not None:
            Path(compile_cache).mkdir(parents=True, exist_ok=True)
        started = _now()
        partial, tail, duration = _run_child(args, timeout_s, memory_limit_mb or default_memory_limit_mb())
        busy, readings = partial.pop("interference", None), partial.pop("canary", None) or {}
        contended = quiet.contention(busy) if partial["status"] == "ok" else None
        drift = quiet.drift(readings.get("before"), readings.get("after"))
        attempts.append({"started_at": started, "ended_at": _now(), "duration_s": duration,
                         "interference": busy, "canary": readings or None, "canary_drift": drift,
                         "contended": contended})
        if not contended or len(attempts) > reruns:
            break
    if contended:
        # excluded from the cell's figures (metrics.combine), kept with what disturbed it
        partial = {**partial, "status": "contended",
                   "reason": f"contended in all {len(attempts)} attempts; the last: {contended}"}
    process = {"index": index, "status": partial["status"], "reason": partial["reason"],
               "duration_s": sum(a["duration_s"] for a in attempts), "stderr_tail": tail,
               "samples": (partial.get("timing") or {}).get("samples_taken", 0),
               "started_at": attempts[0]["started_at"], "ended_at": attempts[-1]["ended_at"],
               "compile_cache": (partial.get("knobs") or {}).get("env", {}).get("compile_cache"),
               "run_id": run_id, "interference": busy, "canary": readings or None, "canary_drift": drift,
               "attempts": attempts}
    return {
        "schema_version": SCHEMA_VERSION,
        "workload": workload.name,
        "framework": framework,
        "mode": mode,
        "profile": profile,
        "machine_id": hardware.machine_id(),
        "stderr_tail": tail,
        "duration_s": duration,
        "timing": None,
        **partial,
        "processes": [process],
        "provenance": provenance.collect(workload.source_files(framework), profile),
    }


def not_installed(workload: Workload, framework: str, mode: str, profile: str, missing: str,
                  run_id: str | None = None) -> dict:
    """The result of a cell whose framework (or Keras backend) this machine lacks:
    recorded as unsupported with the reason, never as a failure, and nothing started."""
    reason = f"{missing} is not installed on this machine"
    process = {"index": 0, "status": "unsupported", "reason": reason, "duration_s": 0.0, "stderr_tail": "",
               "samples": 0, "started_at": _now(), "ended_at": _now(), "compile_cache": None,
               "run_id": run_id or provenance.run_id()}
    return {
        "schema_version": SCHEMA_VERSION, "workload": workload.name, "framework": framework, "mode": mode,
        "profile": profile, "machine_id": hardware.machine_id(), "status": "unsupported", "reason": reason,
        "stderr_tail": "", "duration_s": 0.0, "timing": None, "metrics": {}, "device": None, "cases": {},
        "knobs": {}, "processes": [process],
        "provenance": provenance.collect(workload.source_files(framework), profile),
    }


class DetectionError(RuntimeError):
    """A framework that is installed could not say which devices it sees."""


def _seen_by(name: str, env: dict[str, str] | None = None) -> list[dict]:
    """The accelerators one framework sees, asked in a process of its own (``env``: what the
    mode sets, Keras's backend); DetectionError with its output when it cannot answer."""
    code = (f"import json; from pipeline.measure.backends import {name}_backend as b; "
            f"print(json.dumps(b.visible_accelerators()))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        where = f" ({', '.join(f'{k}={v}' for k, v in env.items())})" if env else ""
        raise DetectionError(f"{name}{where}: asking which devices it sees failed (exit code {proc.returncode}): "
                             f"{privacy.scrub(proc.stderr.strip(), REPO_ROOT, Path.home())[-500:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def detect() -> dict:
    """This machine, and the devices each installed framework sees (each asked in
    a process of its own, so no two frameworks share one). Keras sees what the
    framework it runs on sees: it is asked once per mode whose backend is installed
    (``backends``), and its ``accelerators`` are the first of them. A framework that is
    installed but cannot answer raises DetectionError with its output: the machine
    description is never written with an error where its devices should be."""
    info = hardware.describe()
    seen = {}
    for name, fw in FRAMEWORKS.items():
        if not fw.installed():
            seen[name] = {"installed": False}
            continue
        entry = {"installed": True, "versions": fw.versions()}
        if fw.mode_env:
            runnable = [m for m in fw.modes if all(FRAMEWORKS[n].installed() for n in fw.needs(m))]
            entry["backends"] = {m: _seen_by(name, fw.mode_env[m]) for m in runnable}
            entry["accelerators"] = next(iter(entry["backends"].values()), [])
        else:
            entry["accelerators"] = _seen_by(name)
        seen[name] = entry
    info["frameworks"] = seen
    return info


def run_cell(workload: Workload, framework: str, mode: str, profile: str, out: Path, processes: int = 1,
             first_index: int = 0, **options) -> dict:
    """``processes`` fresh processes one after another, combined into ``out``."""
    parts = [run_process(workload, framework, mode, profile, first_index + i, **options) for i in range(processes)]
    result = combine(parts)
    results.validate(result, str(out))
    results.store(out, result)
    return result


def merge_files(inputs: list[Path], out: Path) -> dict:
    """Combine results written by separate jobs (one process each) into the cell's file."""
    result = combine([results.load(p, check_place=False) for p in inputs])
    results.validate(result, str(out))
    results.store(out, result)
    return result


def describe(result: dict) -> str:
    """A cell's result for the terminal: its status, the training throughput with its
    interval, the cold first step and the accuracy, each case's figure or failure, and
    the stderr tail of a failed cell."""
    line = f"{result['workload']} {result['framework']} {result['mode']}: {result['status']}"
    metrics = result["metrics"]
    if result["status"] == "ok" and "train_throughput" in metrics:
        thr = metrics["train_throughput"]["summary"]
        line += (f", train {thr['median']:,.0f} {metrics['train_throughput']['unit']} [{thr['ci_low']:,.0f},"
                 f" {thr['ci_high']:,.0f}] over {len(result['processes'])} process(es),"
                 f" first step {(metrics.get('time_to_first_step') or {}).get('value') or 0:.2f} s (cold),"
                 f" accuracy {metrics['accuracy']['value']:.3f}")
    elif result["status"] == "ok":
        line += f" over {len(result['processes'])} process(es)"
    for name, case in (result.get("cases") or {}).items():
        shown = f"{name}/throughput"
        if shown in metrics:
            line += f"\n  {name}: {metrics[shown]['value']:,.4g} {metrics[shown]['unit']}"
        if case["status"] != "ok":
            line += f"\n  {name}: {case['status']} ({case['reason']})"
    if result["status"] != "ok":
        line += f" ({result['reason']})\n--- stderr tail ---\n{result['stderr_tail'][-1500:]}"
    return line
