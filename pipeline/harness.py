"""Run one cell in a child process with a hard timeout and record its outcome.

This process never imports a framework. Whatever happens in the child (an
unsupported mode, a crash, a hang, a NaN, memory exhaustion), exactly one result
file is written for the cell, atomically, with a status and the tail of stderr;
other cells' files are never touched.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import SCHEMA_VERSION, hardware, provenance, results
from .registry import Workload

STDERR_TAIL_CHARS = 4000
OOM_MARKERS = ("MemoryError", "out of memory", "RESOURCE_EXHAUSTED", "OutOfMemoryError", "std::bad_alloc")


def _classify(returncode: int, stderr_tail: str) -> tuple[str, str]:
    if any(marker in stderr_tail for marker in OOM_MARKERS) or returncode == -signal.SIGKILL:
        return "out-of-memory", "the process ran out of memory or was killed by the OOM killer"
    last = next((line for line in reversed(stderr_tail.strip().splitlines()) if line.strip()), "")
    return "crashed", f"exit code {returncode}: {last[:300]}" if last else f"exit code {returncode}"


def _run_child(args: dict, timeout_s: float) -> tuple[dict | None, int | None, str, float]:
    with tempfile.TemporaryDirectory(prefix="cell-") as tmp:
        out = Path(tmp) / "partial.json"
        err_path = Path(tmp) / "stderr.txt"
        start = time.perf_counter()
        with open(err_path, "w") as err:
            # a session of its own, so a timeout also stops compiler workers it spawned
            child = subprocess.Popen(
                [sys.executable, "-m", "pipeline.worker", json.dumps(args), str(out)],
                stdout=err, stderr=subprocess.STDOUT, start_new_session=True,
                cwd=os.getcwd(), env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            try:
                returncode = child.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
                returncode = None
        duration = time.perf_counter() - start
        tail = err_path.read_text(errors="replace")[-STDERR_TAIL_CHARS:]
        partial = json.loads(out.read_text()) if out.is_file() and returncode == 0 else None
        return partial, returncode, tail, duration


def run_cell(
    workload: Workload,
    framework: str,
    mode: str,
    profile: str,
    out: Path,
    device: str = "auto",
    threads: int = 1,
    seed: int = 0,
    timeout_s: float = 1200,
) -> dict:
    args = {
        "workload_dir": str(workload.folder),
        "framework": framework,
        "mode": mode,
        "profile": profile,
        "device": device,
        "threads": threads,
        "seed": seed,
    }
    partial, returncode, tail, duration = _run_child(args, timeout_s)
    if partial is None:
        if returncode is None:
            status, reason = "timeout", f"no result after {timeout_s:g} s; the process was killed"
        else:
            status, reason = _classify(returncode, tail)
        partial = {"status": status, "reason": reason, "metrics": {}, "knobs": {"threads": threads},
                   "device": None}
    result = {
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
        "provenance": provenance.collect(workload.source_files(framework)),
    }
    results.validate(result, str(out))
    results.write_atomic(out, result)
    return result
