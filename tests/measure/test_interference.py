"""Unit tier, alone: what the interference window (pipeline/measure/interference.py) counts
as other work: not the measured process's own children, and only while samples are timed
(pipeline/measure/timing.py)."""

from __future__ import annotations

import pytest


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
