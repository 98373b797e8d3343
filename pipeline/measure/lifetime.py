"""Nothing of a run outlives it, and a killed process is named for what killed it.

The measured worker runs in a session of its own (so that a kill reaches the
compiler workers it starts), which also shields it from the terminal's Ctrl-C and
from its parent's death. These helpers put the ties back: the worker gets a
parent-death signal, the harness turns SIGTERM into an exit that stops the worker's
whole group, and a SIGKILL is called out-of-memory only when the kernel's OOM
killer counted one.
"""

from __future__ import annotations

import ctypes
import os
import signal
from pathlib import Path

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Ask Linux to send ``sig`` to this process when its parent dies (a no-op
    elsewhere); exit at once if the parent is already gone."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:
        os._exit(1)


def exit_on_terminate() -> None:
    """SIGTERM (and SIGHUP) end this process as Ctrl-C does, through ``finally``
    blocks, so the harness stops its worker before it goes."""

    def stop(signum, frame):
        raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)


def stop_with_parent() -> None:
    """A measuring command stops (and stops its worker) when its parent goes or
    when it is told to terminate, so nothing of a run outlives it."""
    exit_on_terminate()
    die_with_parent(signal.SIGTERM)


def _memory_cgroup() -> Path | None:
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # cgroup v2
            return Path("/sys/fs/cgroup") / path.lstrip("/")
        if "memory" in controllers.split(","):
            return Path("/sys/fs/cgroup/memory") / path.lstrip("/")
    return None


def oom_kills() -> int | None:
    """How many processes the kernel's OOM killer has killed in this cgroup (None
    where the counter cannot be read)."""
    folder = _memory_cgroup()
    if folder is None:
        return None
    for name in ("memory.events", "memory.oom_control"):
        try:
            for line in (folder / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            continue
    return None


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
