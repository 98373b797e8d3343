"""Was the machine busy while a process was measured? What the measured process
reads around its timed window, and the rule that calls a process contended.

CPU time is accounted system-wide (``/proc/stat`` through psutil) and for the
measuring apparatus: the measured process with its children, and its parent (the
harness, which polls it). Whatever the machine spent beyond that went to other
work. Steal time (a hypervisor giving the core to another guest), the load
average and the clock frequency are recorded beside it; what a process cannot
see (other tenants of the host slowing the chip) is the canary's part
(:mod:`pipeline.measure.canary`).
"""

from __future__ import annotations

import os
import time

import psutil

#: Other work above this many cores' worth of CPU time, averaged over the timed
#: window, makes a process contended. An idle machine with the harness polling
#: shows well under a tenth of one core (methodology page).
OUTSIDE_CORES_LIMIT = 0.25
#: Steal above this share of the machine's CPU time makes a process contended too.
STEAL_SHARE_LIMIT = 0.05
#: A contended process is measured again at most this many times.
RERUNS = 2


def _busy(times) -> float:
    # guest time is already inside user on Linux; idle, iowait and steal are not work done here
    return sum(getattr(times, f, 0.0) for f in ("user", "nice", "system", "irq", "softirq"))


def _apparatus_cpu() -> float:
    """CPU seconds of this process (with reaped and live children) and its parent."""
    me = psutil.Process()
    total = 0.0
    for proc in [me, *me.children(recursive=True)]:
        try:
            t = proc.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system
        if proc is me:
            total += t.children_user + t.children_system
    try:
        parent = psutil.Process(os.getppid()).cpu_times()
        total += parent.user + parent.system
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
    """``start()`` before the timed work, ``stop()`` after it: the record of what else ran."""

    def start(self) -> Window:
        self._wall = time.perf_counter()
        self._system = psutil.cpu_times()
        self._mine = _apparatus_cpu()
        self._freq = _freq_mhz()
        return self

    def stop(self) -> dict:
        wall = time.perf_counter() - self._wall
        system, mine = psutil.cpu_times(), _apparatus_cpu()
        cpus = psutil.cpu_count() or 1
        busy = max(0.0, _busy(system) - _busy(self._system))
        outside = max(0.0, busy - (mine - self._mine))
        steal = max(0.0, getattr(system, "steal", 0.0) - getattr(self._system, "steal", 0.0))
        try:
            load = round(os.getloadavg()[0], 2)
        except OSError:
            load = None
        return {
            "window_s": round(wall, 4),
            "cpus": cpus,
            "outside_cpu_s": round(outside, 4),
            "outside_cores": round(outside / wall, 4) if wall > 0 else 0.0,
            "steal_share": round(steal / (wall * cpus), 4) if wall > 0 else 0.0,
            "load_1min": load,
            "freq_mhz_start": self._freq,
            "freq_mhz_end": _freq_mhz(),
        }


def contention(record: dict | None) -> str | None:
    """Why a process counts as contended, in words with its figures; None when it does not."""
    reasons = []
    if record:
        if record["outside_cores"] > OUTSIDE_CORES_LIMIT:
            reasons.append(f"other work used {record['outside_cores']:.2f} cores' worth of CPU time during the "
                           f"timed window (limit {OUTSIDE_CORES_LIMIT:g})")
        if record["steal_share"] > STEAL_SHARE_LIMIT:
            reasons.append(f"the hypervisor stole {100 * record['steal_share']:.0f}% of the CPU time "
                           f"(limit {100 * STEAL_SHARE_LIMIT:g}%)")
    return "; ".join(reasons) or None
