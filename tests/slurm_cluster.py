"""A one-node Slurm cluster on this machine, for the workflow tier's Slurm test.

Debian's ``slurm-wlm`` and ``munge`` (installed by ``nox -s tests`` where missing, as
root). The configuration has to sit where Slurm looks by default (/etc/slurm): the
executor plugin's job step drops every ``SLURM_*`` variable, ``SLURM_CONF`` included,
before its nested ``srun``. So this refuses to run where a slurm.conf it did not
write exists (a real cluster's node), uses ports other than Slurm's defaults, keeps
its state under a temporary folder and removes its two files when it stops. The
node is sized from ``slurmd -C``; it declares two fake GPUs as gres with ``File=``
entries (a GPU gres without one leaves the node invalid and every job pending), so
GPU requests can be exercised. There is no accounting daemon: the workflow
profiles ask ``squeue``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import psutil

DAEMONS = ("slurmctld", "slurmd", "munged")
#: ports other than Slurm's defaults (6817, 6818), so a real cluster here is left alone
CTLD_PORT, SLURMD_PORT = 16817, 16818
#: character devices every Linux has, standing in for /dev/nvidia0 and /dev/nvidia1
FAKE_GPUS = ("/dev/null", "/dev/zero")
ETC = Path("/etc/slurm")
#: the first line of every file this writes; a file without it is not ours to replace
MARK = "# written by tests/slurm_cluster.py for the test cluster; removed when it stops"


def missing() -> list[str]:
    """Why the test cluster cannot start here: programs not installed, or a Slurm
    configuration that is not ours."""
    found = [p for p in ("slurmctld", "slurmd", "sbatch", "squeue", "munged", "munge", "runuser")
             if not shutil.which(p)]
    conf = ETC / "slurm.conf"
    if conf.is_file() and not conf.read_text().startswith(MARK):
        found.append(f"{conf} belongs to another Slurm installation")
    return found


def node_line() -> str:
    """``NodeName=... CPUs=... RealMemory=...`` as slurmd measures this machine."""
    out = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, check=True).stdout
    first = next(line for line in out.splitlines() if line.startswith("NodeName="))
    return " ".join(part for part in first.split() if not part.startswith("UpTime="))


class LocalCluster:
    """Start with :meth:`start`, stop with :meth:`stop`; :attr:`env` names its config."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.conf, self.gres = ETC / "slurm.conf", ETC / "gres.conf"
        self.env = {k: v for k, v in os.environ.items() if k != "SLURM_CONF"}
        self.started: list[psutil.Process] = []

    def write_config(self) -> None:
        for sub in ("state", "spool", "log"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        f = self.folder
        ETC.mkdir(parents=True, exist_ok=True)
        self.conf.write_text("\n".join([
            MARK,
            "ClusterName=framework-comparison-test",
            f"SlurmctldHost={socket.gethostname()}",
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            f"SlurmctldPort={CTLD_PORT}",
            f"SlurmdPort={SLURMD_PORT}",
            f"StateSaveLocation={f / 'state'}",
            f"SlurmdSpoolDir={f / 'spool'}",
            f"SlurmctldPidFile={f / 'slurmctld.pid'}",
            f"SlurmdPidFile={f / 'slurmd.pid'}",
            f"SlurmctldLogFile={f / 'log' / 'slurmctld.log'}",
            f"SlurmdLogFile={f / 'log' / 'slurmd.log'}",
            # no cgroups in a container: track processes by parentage, bind nothing
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "SchedulerType=sched/backfill",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core_Memory",
            "GresTypes=gpu",
            "AccountingStorageType=accounting_storage/none",
            "JobAcctGatherType=jobacct_gather/none",
            "JobCompType=jobcomp/none",
            "MpiDefault=none",
            "ReturnToService=2",
            # finished jobs stay visible to squeue long enough for the plugin to see them end
            "MinJobAge=600",
            f"{node_line()} Gres=gpu:{len(FAKE_GPUS)} State=UNKNOWN",
            "PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
            "",
        ]))
        self.gres.write_text(MARK + "\n" + "".join(f"Name=gpu File={dev}\n" for dev in FAKE_GPUS))

    def _spawn(self, cmd: list[str], user: str | None = None) -> None:
        if user:
            cmd = ["runuser", "-u", user, "--", *cmd]
        subprocess.run(cmd, env=self.env, check=True, capture_output=True, text=True, timeout=60)

    def start(self, timeout_s: float = 90) -> None:
        self.write_config()
        before = {p.pid for p in psutil.process_iter()}
        # a munged that answers (a process of that name may be a zombie)
        if subprocess.run(["munge", "-n"], capture_output=True).returncode != 0:
            Path("/run/munge").mkdir(parents=True, exist_ok=True)
            shutil.chown("/run/munge", "munge", "munge")
            self._spawn(["munged"], user="munge")
        self._spawn(["slurmctld", "-i"])
        self._spawn(["slurmd"])
        self.started = [p for p in psutil.process_iter(["name"])
                        if p.pid not in before and p.info["name"] in DAEMONS]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            state = subprocess.run(["sinfo", "-h", "-o", "%T"], env=self.env, capture_output=True, text=True)
            if state.stdout.strip() == "idle":
                return
            time.sleep(1)
        raise RuntimeError(f"the test cluster's node never became idle: {self.log_tail()}")

    def log_tail(self) -> str:
        logs = [self.folder / "log" / name for name in ("slurmctld.log", "slurmd.log")]
        return "\n".join(p.read_text()[-1500:] for p in logs if p.is_file())

    def stop(self) -> None:
        subprocess.run(["scontrol", "shutdown"], env=self.env, capture_output=True, timeout=30)
        for proc in self.started:
            try:
                proc.send_signal(signal.SIGTERM)
                proc.wait(10)
            except psutil.NoSuchProcess:
                pass
            except psutil.TimeoutExpired:
                proc.kill()
        for path in (self.conf, self.gres):
            if path.is_file() and path.read_text().startswith(MARK):
                path.unlink()
