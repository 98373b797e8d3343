"""Unit tier: when a process counts as contended, and when its canary drifted."""

from __future__ import annotations

import pytest

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


@pytest.mark.alone  # reads the CPU time of everything else on the machine
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


@pytest.mark.alone  # reads the CPU time of everything else on the machine
def test_the_window_reads_the_timed_samples_only():
    """Work outside the timed samples (setup, compiling, checking) is not in the record:
    a neighbour busy between two runs of samples goes unseen, one busy during them counts."""
    import subprocess
    import sys
    import time

    from pipeline.measure import interference, timing

    def busy_neighbour(seconds: float) -> None:
        # started through a shell that exits at once: not a child of this process, so not measured work
        loop = f"import time\nt = time.time()\nwhile time.time() - t < {seconds}: pass"
        subprocess.run(["sh", "-c", f"{sys.executable} -c '{loop}' &"], check=True)

    window = interference.Window()
    timing.observe(window)
    try:
        busy_neighbour(1.0)  # busy while nothing is timed
        time.sleep(1.5)
        timing.sample(lambda: sum(range(20_000)), lambda _: None, warmup=1, samples=20, per_sample=10)
        quiet_part = window.record()
        busy_neighbour(1.5)  # busy while the samples are timed
        timing.sample(lambda: time.sleep(0.15), lambda _: None, warmup=0, samples=10, per_sample=1)
        busy_part = window.record()
    finally:
        timing.observe(None)
    assert quiet_part["stretches"] == 1 and quiet_part["outside_cpu_s"] < 0.3
    assert busy_part["stretches"] == 2 and busy_part["outside_cpu_s"] > 0.7
    assert busy_part["window_s"] > quiet_part["window_s"] + 1.4
