"""The whole suite of a profile in one command, without Snakemake.

``python -m pipeline run-suite --profile gpu --out DIR`` is for a machine that is
lent for minutes (a GPU machine with no Snakemake, no TensorFlow and no network):
the same harness, worker, watchdogs and provenance as the DAG, in the same order
(every cell's process 0, then every cell's process 1, ...), written where the DAG
would write, under ``DIR``:

``DIR/machines/<machine>.json``            what ``python -m pipeline detect`` writes
``DIR/timer_check/<machine>.json``         the harness's clock against independent timers
``DIR/results/<machine>/<workload>/<cell>.json``  one result per cell, rewritten
                                           atomically after each of its processes
``DIR/runs/<machine>-<profile>.json``      the run's log: every process with its start,
                                           end and duration, what was skipped and why

A cell whose framework (or Keras backend) is not installed is recorded as
unsupported with that reason, without starting anything. With ``budget_s`` no
process starts once that many seconds have passed; a cell then keeps the
processes it had, and the log and the summary say which were skipped. A run
stopped from outside keeps every cell written so far. With ``warm_cache`` the
processes of a cell share one compile cache: process 0 starts it empty (a cold
start), later ones find it filled, and their first step is recorded as a
metric of its own.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipeline.core import config as config_mod
from pipeline.core import quiet, results
from pipeline.core.config import Cell
from pipeline.core.frameworks import missing
from pipeline.core.metrics import combine
from pipeline.core.registry import Workload
from pipeline.measure import hardware, provenance
from pipeline.measure.harness import detect, not_installed, run_process


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Suite:
    """One run: its cells, the results so far and the log, written as it goes."""

    def __init__(self, cfg: dict, out: Path, workloads: dict[str, Workload], budget_s: float | None = None,
                 warm_cache: bool = True, timer_check: bool = True, echo=print):
        self.cfg, self.out, self.budget_s = cfg, Path(out), budget_s
        self.warm_cache, self.timer_check, self.echo = warm_cache, timer_check, echo
        self.machine = hardware.machine_id()
        self.run_id = provenance.run_id()
        # every selected cell, installed or not: those not installed are recorded
        # as such rather than refused
        self.workloads = workloads
        self.cells = config_mod.cells_of(cfg, self.workloads)
        self.processes = config_mod.processes(cfg)
        self.parts: dict[Cell, list[dict]] = {}
        self.log = {"machine_id": self.machine, "run_id": self.run_id, "profile": cfg["profile"], "started_at": _now(),
                    "ended_at": None, "wall_s": None, "budget_s": budget_s, "processes_per_cell": self.processes,
                    "warm_cache": warm_cache, "cells": len(self.cells), "processes": [], "skipped": [],
                    "not_installed": [], "timer_check_s": None}
        self.start = time.monotonic()

    # -- paths -----------------------------------------------------------------
    def result_path(self, cell: Cell) -> Path:
        return results.result_path(self.out, self.machine, cell.workload, cell.framework, cell.mode,
                                   self.cfg["profile"])

    @property
    def log_path(self) -> Path:
        return self.out / "runs" / f"{self.machine}-{self.cfg['profile']}.json"

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def _save_log(self) -> None:
        self.log["wall_s"] = round(self.elapsed(), 3)
        results.write_atomic(self.log_path, self.log)

    # -- steps -----------------------------------------------------------------
    def describe_machine(self) -> None:
        results.write_atomic(self.out / "machines" / f"{self.machine}.json", detect())
        if self.timer_check:
            # in a child: the check imports torch, this process imports no framework
            began = time.monotonic()
            target = self.out / "timer_check" / f"{self.machine}.json"
            proc = subprocess.run([sys.executable, "-m", "pipeline", "timer-check", "--out", str(target)],
                                  capture_output=True, text=True, timeout=600)
            self.log["timer_check_s"] = round(time.monotonic() - began, 3)
            if proc.returncode != 0:
                self.log["timer_check_error"] = proc.stderr[-1000:]

    def record_missing(self) -> list[Cell]:
        """Write the cells this machine cannot run; return the runnable ones."""
        runnable = []
        for cell in self.cells:
            lacking = missing(cell.framework, cell.mode)
            if lacking is None:
                runnable.append(cell)
                continue
            result = not_installed(self.workloads[cell.workload], cell.framework, cell.mode, self.cfg["profile"],
                                   lacking, run_id=self.run_id)
            results.validate(result, str(self.result_path(cell)))
            results.store(self.result_path(cell), result)
            self.log["not_installed"].append({"workload": cell.workload, "framework": cell.framework,
                                              "mode": cell.mode, "missing": lacking})
        return runnable

    def measure(self, cell: Cell, index: int, cache_root: Path) -> dict:
        cache = cache_root / cell.workload / cell.stem if self.warm_cache else None
        cfg = self.cfg
        part = run_process(
            self.workloads[cell.workload], cell.framework, cell.mode, cfg["profile"], index,
            device=cfg["device"], threads=config_mod.threads(cfg), seed=cfg["seed"], timeout_s=cfg["timeout_s"],
            memory_limit_mb=config_mod.memory_limit_mb(cfg["memory_limit_mb"]),
            options=config_mod.workload_options(cfg, cell.workload), compile_cache=str(cache) if cache else None,
            reruns=cfg.get("reruns", quiet.RERUNS), run_id=self.run_id,
        )
        self.parts.setdefault(cell, []).append(part)
        merged = combine(self.parts[cell])
        results.validate(merged, str(self.result_path(cell)))
        results.store(self.result_path(cell), merged)
        proc = part["processes"][0]
        self.log["processes"].append({
            "workload": cell.workload, "framework": cell.framework, "mode": cell.mode, "index": index,
            "status": proc["status"], "reason": proc["reason"], "duration_s": round(proc["duration_s"], 3),
            "started_at": proc["started_at"], "ended_at": proc["ended_at"], "compile_cache": proc["compile_cache"],
        })
        return proc

    def run(self) -> dict:
        self.describe_machine()
        runnable = self.record_missing()
        self._save_log()
        self.echo(f"{self.machine}, profile {self.cfg['profile']}: {len(runnable)} cell(s) to measure x "
                  f"{self.processes} process(es), {len(self.cells) - len(runnable)} not installed"
                  + (f", budget {self.budget_s:g} s" if self.budget_s else ""))
        cache_root = Path(tempfile.mkdtemp(prefix="suite-compile-cache-"))
        try:
            for index in range(self.processes):
                for cell in runnable:
                    if self.budget_s is not None and self.elapsed() >= self.budget_s:
                        self.log["skipped"].append({"workload": cell.workload, "framework": cell.framework,
                                                    "mode": cell.mode, "index": index,
                                                    "reason": f"budget of {self.budget_s:g} s spent"})
                        continue
                    proc = self.measure(cell, index, cache_root)
                    self.echo(f"[{self.elapsed():7.1f} s] round {index + 1}/{self.processes} "
                              f"{cell.workload} {cell.framework}-{cell.mode}: {proc['status']} "
                              f"in {proc['duration_s']:.1f} s" + (f" ({proc['reason']})" if proc["reason"] else ""))
                    self._save_log()
        finally:
            shutil.rmtree(cache_root, ignore_errors=True)
            self.log["ended_at"] = _now()
            self._save_log()
        return self.log


def summary(log: dict) -> str:
    """What ran, how long it took, and what did not fit."""
    by_status: dict[str, int] = {}
    for proc in log["processes"]:
        by_status[proc["status"]] = by_status.get(proc["status"], 0) + 1
    counts = ", ".join(f"{n} {status}" for status, n in sorted(by_status.items())) or "none"
    lines = [f"{log['machine_id']} ({log['profile']}): {len(log['processes'])} process(es) in "
             f"{log['wall_s']:.1f} s: {counts}; {len(log['not_installed'])} cell(s) not installed; "
             f"{len(log['skipped'])} process(es) skipped"]
    for skip in log["skipped"]:
        lines.append(f"  skipped: {skip['workload']} {skip['framework']}-{skip['mode']} process {skip['index']}: "
                     f"{skip['reason']}")
    return "\n".join(lines)
