"""Unit tier: when a process counts as contended, and when its canary drifted."""

from __future__ import annotations

from pipeline.core import quiet


def record(outside_cores=0.0, window_s=10.0, steal_share=0.0, cpus=2):
    return {"window_s": window_s, "cpus": cpus, "outside_cpu_s": outside_cores * window_s,
            "outside_cores": outside_cores, "steal_share": steal_share}


def test_a_quiet_window_is_not_contended():
    assert quiet.contention(record(0.05)) is None
    assert quiet.contention(None) is None


def test_other_work_above_the_limit_is_contended_with_its_figure():
    why = quiet.contention(record(0.9))
    assert why == "other work used 0.90 cores' worth of CPU time during the timed window (limit 0.25)"


def test_a_window_too_short_to_tell_is_not_called_contended():
    # 0.05 s of other work in a 0.1 s window: five scheduler ticks, not evidence
    assert quiet.contention(record(0.5, window_s=0.1)) is None


def test_heavy_steal_during_the_samples_makes_a_process_contended():
    # the host's other guests come and go within minutes: the process is measured again
    assert quiet.contention(record(steal_share=0.2)) == "the hypervisor stole 20% of the CPU time (limit 5%)"
    assert quiet.stolen(record(steal_share=0.2)) == "the hypervisor stole 20% of the CPU time (limit 5%)"
    assert quiet.contention(record(steal_share=0.01)) is None and quiet.stolen(record(steal_share=0.01)) is None
    assert quiet.contention(record(steal_share=0.2, window_s=0.1)) is None  # 40 ms: too short to tell
    both = quiet.contention(record(outside_cores=0.9, steal_share=0.2))
    assert both.startswith("other work used 0.90 cores") and both.endswith("stole 20% of the CPU time (limit 5%)")


def test_canary_drift_names_the_part_that_moved():
    before = {"blas_s": 0.010, "python_s": 0.020}
    assert quiet.drift(before, {"blas_s": 0.011, "python_s": 0.021}) is None
    assert quiet.drift(before, {"blas_s": 0.010, "python_s": 0.030}) is None  # 1.5x: the machine's own wander
    assert quiet.drift(before, {"blas_s": 0.010, "python_s": 0.050}) == (
        "the canary drifted (Python loop took 2.50x as long after as before; limit 2x)")
    assert "matrix product took 0.40x" in quiet.drift(before, {"blas_s": 0.004, "python_s": 0.020})
    assert quiet.drift(None, before) is None
