"""Was the machine busy while a process was measured? What the measured process
reads around its timed window.

CPU time is accounted system-wide (``/proc/stat`` through psutil) and for the
measuring apparatus: the measured process with its children, and what started it
(the harness that polls it, the DAG engine, the shells between). Whatever the
machine spent beyond that went to other work. The apparatus's own share is
recorded too: on a 2-core machine a busy DAG engine competes like a neighbour.
Steal time (a hypervisor giving the core to another guest), the load average and
the clock frequency are recorded beside it; what a process cannot see (other
tenants of the host slowing the chip) is the canary's part
(:mod:`pipeline.measure.canary`). The limits and the rule are in
:mod:`pipeline.core.quiet`.
"""

from __future__ import annotations

import os
import time

import psutil


def _busy(times) -> float:
    # guest time is already inside user on Linux; idle, iowait and steal are not work done here
    return sum(getattr(times, f, 0.0) for f in ("user", "nice", "system", "irq", "softirq"))


def _cpu(proc: psutil.Process, reaped: bool = False) -> float:
    try:
        t = proc.cpu_times()
    except psutil.Error:
        return 0.0
    return t.user + t.system + ((t.children_user + t.children_system) if reaped else 0.0)


def _tree_cpu() -> float:
    """CPU seconds of the measured process and every descendant, live or reaped: a live
    child's own reaped children count too (a PyTorch rank's compiler runs, say), or they
    would look like other work."""
    me = psutil.Process()
    return _cpu(me, reaped=True) + sum(_cpu(child, reaped=True) for child in me.children(recursive=True))


def _ancestors_cpu() -> float:
    """CPU seconds of what started the measured process: the harness, the DAG engine and
    the shells between them, up to (not including) the machine's init process."""
    total, proc = 0.0, psutil.Process()
    try:
        while (proc := proc.parent()) is not None and proc.pid > 1:
            total += _cpu(proc)
    except psutil.Error:
        pass
    return total


def _freq_mhz() -> float | None:
    try:
        freq = psutil.cpu_freq()
    except (OSError, NotImplementedError, AttributeError):
        return None
    return round(freq.current, 1) if freq and freq.current else None


class Window:
    """What else ran while the process timed: ``resume()`` before a stretch of timed work,
    ``pause()`` after it, as many stretches as the protocol times (the timed samples,
    not the setup, compiling and checking between them); ``record()`` sums them.
    ``start()`` / ``stop()`` time one stretch and record it."""

    def __init__(self) -> None:
        self._open: tuple | None = None
        self._sums = {"wall": 0.0, "busy": 0.0, "tree": 0.0, "apparatus": 0.0, "steal": 0.0}
        self.stretches = 0
        self._freq_start = self._freq_end = None

    def resume(self) -> Window:
        if self._freq_start is None:
            self._freq_start = _freq_mhz()
        self._open = (time.perf_counter(), psutil.cpu_times(), _tree_cpu(), _ancestors_cpu())
        return self

    def pause(self) -> None:
        if self._open is None:
            return
        wall0, system0, tree0, ancestors0 = self._open
        wall = time.perf_counter() - wall0
        system, tree, ancestors = psutil.cpu_times(), _tree_cpu(), _ancestors_cpu()
        self._sums["wall"] += wall
        self._sums["busy"] += max(0.0, _busy(system) - _busy(system0))
        self._sums["tree"] += max(0.0, tree - tree0)
        self._sums["apparatus"] += max(0.0, ancestors - ancestors0)
        self._sums["steal"] += max(0.0, getattr(system, "steal", 0.0) - getattr(system0, "steal", 0.0))
        self._freq_end = _freq_mhz()
        self._open = None
        self.stretches += 1

    def start(self) -> Window:
        return self.resume()

    def stop(self) -> dict:
        self.pause()
        return self.record()

    def record(self) -> dict:
        wall, sums = self._sums["wall"], self._sums
        cpus = psutil.cpu_count() or 1
        outside = max(0.0, sums["busy"] - sums["tree"] - sums["apparatus"])
        try:
            load = round(os.getloadavg()[0], 2)
        except OSError:
            load = None
        return {
            "window_s": round(wall, 4),
            "stretches": self.stretches,
            "cpus": cpus,
            "outside_cpu_s": round(outside, 4),
            "outside_cores": round(outside / wall, 4) if wall > 0 else 0.0,
            # the harness and the DAG engine: not other work, but not free either
            "apparatus_cores": round(sums["apparatus"] / wall, 4) if wall > 0 else 0.0,
            "steal_share": round(sums["steal"] / (wall * cpus), 4) if wall > 0 else 0.0,
            "load_1min": load,
            "freq_mhz_start": self._freq_start,
            "freq_mhz_end": self._freq_end,
        }
