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


def test_steal_is_flagged_not_contended():
    # the host's other guests: a re-run cannot escape them, so the process is kept and flagged
    assert quiet.contention(record(steal_share=0.2)) is None
    assert quiet.stolen(record(steal_share=0.2)) == "the hypervisor stole 20% of the CPU time (flagged above 5%)"
    assert quiet.stolen(record(steal_share=0.01)) is None
    assert quiet.stolen(record(steal_share=0.2, window_s=0.1)) is None  # 40 ms: too short to tell


def test_canary_drift_names_the_part_that_moved():
    before = {"blas_s": 0.010, "python_s": 0.020}
    assert quiet.drift(before, {"blas_s": 0.011, "python_s": 0.021}) is None
    assert quiet.drift(before, {"blas_s": 0.010, "python_s": 0.040}) == (
        "the canary drifted (Python loop took 2.00x as long after as before; limit 1.5x)")
    assert "matrix product took 0.50x" in quiet.drift(before, {"blas_s": 0.005, "python_s": 0.020})
    assert quiet.drift(None, before) is None


def test_what_a_live_child_ran_and_reaped_is_the_measured_tree_not_other_work():
    """A PyTorch rank (a live child of the measured process) compiles with g++ (its own
    children, reaped by it): that CPU time is the measured work's, not a neighbour's."""
    import subprocess
    import sys

    from pipeline.measure import interference

    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 3: pass"
    script = (f"import subprocess, sys, time\nsys.stdin.readline()\n"
              f"subprocess.run([sys.executable, '-c', {burn!r}])\nprint('done', flush=True)\ntime.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        window = interference.Window().start()
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "done"  # the grandchild ran 3 s and was reaped
        busy = window.stop()
    finally:
        child.kill()
        child.wait()
    assert busy["outside_cpu_s"] < 1.5, busy
