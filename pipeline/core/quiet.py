"""What counts as a quiet machine: the limits the measuring side applies
(:mod:`pipeline.measure.interference`, :mod:`pipeline.measure.canary`) and the
pages state, and the rules that turn a process's records into words."""

from __future__ import annotations

import statistics

#: Other work above this many cores' worth of CPU time, averaged over the timed
#: samples, makes a process contended. An idle machine with the harness polling
#: shows well under a tenth of one core.
OUTSIDE_CORES_LIMIT = 0.25
#: ... and at least this many CPU seconds: the kernel counts CPU time in 10 ms ticks,
#: so a window of a fraction of a second cannot tell a few ticks from contention.
OUTSIDE_S_FLOOR = 0.1
#: Steal (the hypervisor giving the core to another guest) above this share of the
#: machine's CPU time during the timed samples makes a process contended, so it is measured
#: again. Over the stored runs, processes with more than 5% steal landed twice as far from
#: their cell's other processes as the rest (0.22 against 0.11 in log speed), and steal
#: comes and goes within minutes on this project's 2-core VMs, so a re-run usually escapes it.
STEAL_SHARE_LIMIT = 0.05
#: A contended process is measured again at most this many times (config: reruns).
RERUNS = 2

#: The canary: a float64 matrix product of this size and a pure-Python loop of this length.
CANARY_MATRIX_N = 512
CANARY_LOOP_N = 300_000
#: Before and after differing by more than this factor (either way) flags the process.
#: At 1.5x the canary flagged 37% of the stored processes, and they landed no farther from
#: their cell's other processes than the unflagged ones (0.118 against 0.111 in log speed):
#: the machine's speed moves within a minute by more than it says about a process. At 2x it
#: flags a machine that changed grossly (under 1% of processes); the readings stay the run's
#: speed index either way.
CANARY_DRIFT_LIMIT = 2.0
#: Two runs whose speed indices (median canary readings) differ by more than this factor
#: measured different machines in effect: the reproduce report names it as a cause of a
#: figure that moved, and claims do not compare cells measured across such runs.
SPEED_INDEX_LIMIT = 1.1
#: The canary's two parts: the reading's key and its name on pages.
CANARY_PARTS = (("blas_s", "matrix product"), ("python_s", "Python loop"))


def contention(record: dict | None) -> str | None:
    """Why a process counts as contended (other work inside the machine), in words with
    its figures; None when it does not."""
    if not record:
        return None
    reasons = []
    if record["outside_cores"] > OUTSIDE_CORES_LIMIT and record["outside_cpu_s"] >= OUTSIDE_S_FLOOR:
        reasons.append(f"other work used {record['outside_cores']:.2f} cores' worth of CPU time during the "
                       f"timed window (limit {OUTSIDE_CORES_LIMIT:g})")
    if stolen(record):
        reasons.append(stolen(record))
    return "; ".join(reasons) or None


def stolen(record: dict | None) -> str | None:
    """Why a process's steal time is worth a reader's note, in words; None when it is not."""
    if not record or record.get("steal_share") is None:
        return None
    stolen_s = record["steal_share"] * record["window_s"] * record["cpus"]
    if record["steal_share"] > STEAL_SHARE_LIMIT and stolen_s >= OUTSIDE_S_FLOOR:
        return (f"the hypervisor stole {100 * record['steal_share']:.0f}% of the CPU time "
                f"(limit {100 * STEAL_SHARE_LIMIT:g}%)")
    return None


def drift(before: dict | None, after: dict | None) -> str | None:
    """Why a process's two canary readings disagree, in words; None when they agree."""
    if not before or not after:
        return None
    moved = []
    for part, label in CANARY_PARTS:
        ratio = after[part] / before[part] if before[part] > 0 else 1.0
        if ratio > CANARY_DRIFT_LIMIT or ratio < 1 / CANARY_DRIFT_LIMIT:
            moved.append(f"{label} took {ratio:.2f}x as long after as before")
    if not moved:
        return None
    return f"the canary drifted ({', '.join(moved)}; limit {CANARY_DRIFT_LIMIT:g}x)"


def tally(processes: list[dict]) -> dict:
    """What the records of some processes say about the machine: how many stayed contended,
    were re-run, saw their canary drift or had steal flagged, and the speed index (the median
    canary reading of each part, in seconds; None without readings)."""
    readings = [p["canary"][when] for p in processes if p.get("canary") for when in ("before", "after")]
    speed = None
    if readings:
        speed = {part: statistics.median(x[part] for x in readings) for part, _ in CANARY_PARTS}
    return {"contended": sum(p["status"] == "contended" for p in processes),
            "reruns": sum(len(p.get("attempts") or [1]) - 1 for p in processes),
            "canary_drift": sum(bool(p.get("canary_drift")) for p in processes),
            "steal_flagged": sum(bool(stolen(p.get("interference"))) for p in processes),
            "speed": speed}


def speed_apart(a: dict | None, b: dict | None) -> str | None:
    """Why two speed indices ({"blas_s", "python_s"}, as ``tally`` gives them) are too far
    apart to pool their runs, in words; None when they are not, or either is unknown."""
    if not a or not b:
        return None
    moved = [f"{label} {b[part] / a[part]:.2f}x" for part, label in CANARY_PARTS
             if a[part] > 0 and b[part] > 0
             and not 1 / SPEED_INDEX_LIMIT <= b[part] / a[part] <= SPEED_INDEX_LIMIT]
    return f"speed index moved ({', '.join(moved)}; limit {SPEED_INDEX_LIMIT:g}x)" if moved else None


def limits() -> dict:
    """The limits as the pages state them."""
    return {"outside_cores": f"{OUTSIDE_CORES_LIMIT:g}", "outside_s": f"{OUTSIDE_S_FLOOR:g}",
            "steal": f"{100 * STEAL_SHARE_LIMIT:g}%", "reruns": RERUNS, "matrix_n": CANARY_MATRIX_N,
            "loop_n": f"{CANARY_LOOP_N:,}", "drift": f"{CANARY_DRIFT_LIMIT:g}",
            "speed_index": f"{100 * (SPEED_INDEX_LIMIT - 1):.0f}%"}
