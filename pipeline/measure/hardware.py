"""What machine is this? A stable, hostname-free id and a description.

The id keys results in ``site_data/results/<machine-id>/``, so results from a GPU
machine and a CPU machine sit side by side and never overwrite each other.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
from pathlib import Path

import psutil


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown cpu"


#: nvidia-smi query fields beyond name, memory and driver: clocks now and at most
#: (MHz) and the power limit (W), stored where the driver can read them
GPU_CLOCK_FIELDS = {
    "clocks.sm": "sm_clock_mhz", "clocks.max.sm": "sm_clock_max_mhz",
    "clocks.mem": "memory_clock_mhz", "clocks.max.mem": "memory_clock_max_mhz",
    "power.limit": "power_limit_w",
}


def _smi(*args: str) -> str | None:
    try:
        return subprocess.run(["nvidia-smi", *args], capture_output=True, text=True, timeout=30,
                              check=True).stdout
    except (subprocess.SubprocessError, OSError):
        return None


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:  # "[N/A]", "[Not Supported]"
        return None


def parse_gpu_query(out: str, cuda: str | None) -> list[dict]:
    """Rows of ``nvidia-smi --query-gpu=name,memory.total,driver_version,<clocks>``."""
    gpus = []
    for line in out.strip().splitlines():
        parts = [part.strip() for part in line.split(",")]
        if len(parts) < 3:
            continue
        name, memory, driver, *rest = parts
        gpu = {"kind": "cuda", "name": name, "memory_mib": int(_number(memory) or 0), "driver": driver,
               "cuda_driver_version": cuda}
        for key, text in zip(GPU_CLOCK_FIELDS.values(), rest, strict=False):
            gpu[key] = _number(text)
        gpus.append(gpu)
    return gpus


def nvidia_gpus() -> list[dict]:
    """GPUs as the driver reports them, with the CUDA version the driver supports
    and the clocks where readable; empty where there is no NVIDIA driver."""
    if not shutil.which("nvidia-smi"):
        return []
    query = ",".join(["name", "memory.total", "driver_version", *GPU_CLOCK_FIELDS])
    out = _smi(f"--query-gpu={query}", "--format=csv,noheader,nounits")
    if out is None:  # an older driver without one of the clock fields
        out = _smi("--query-gpu=name,memory.total,driver_version", "--format=csv,noheader,nounits")
    if out is None:
        return []
    banner = _smi() or ""
    found = re.search(r"CUDA Version:\s*([\d.]+)", banner)
    return parse_gpu_query(out, found[1] if found else None)


def tpu_present() -> bool:
    return any(Path("/dev").glob("accel*")) or bool(os.environ.get("TPU_NAME"))


def slug(text: str) -> str:
    text = re.sub(r"\((r|tm)\)|\bcpu\b|@.*$|\bprocessor\b", " ", text.lower())
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:40] or "unknown"


def machine_id() -> str:
    """e.g. ``amd-epyc-2c`` or ``amd-epyc-16c-nvidia-h100-80gb-hbm3-x1``."""
    parts = [f"{slug(cpu_model())}-{len(os.sched_getaffinity(0))}c"]
    gpus = nvidia_gpus()
    if gpus:
        parts.append(f"{slug(gpus[0]['name'])}-x{len(gpus)}")
    if tpu_present():
        parts.append("tpu")
    return "-".join(parts)


def describe() -> dict:
    """The hardware half of every result's provenance; no hostname."""
    return {
        "machine_id": machine_id(),
        "cpu_model": cpu_model(),
        "cpu_cores_logical": psutil.cpu_count(logical=True),
        "cpu_cores_physical": psutil.cpu_count(logical=False),
        "cpu_affinity": sorted(os.sched_getaffinity(0)),
        "memory_total_bytes": psutil.virtual_memory().total,
        "architecture": platform.machine(),
        "os": f"{platform.system()} {platform.release()}",
        "gpus": nvidia_gpus(),
        "tpu": tpu_present(),
    }


#: CPU feature flags that mean bf16 arithmetic in hardware (x86 AVX-512/AMX, Arm).
BF16_CPU_FLAGS = {"avx512_bf16", "amx_bf16", "bf16"}


def cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def native_precisions(device_kind: str, accelerator_bf16: bool | None = None) -> tuple[str, ...]:
    """Precisions measured on this device: fp32 always; bf16 only where the hardware
    computes it natively (emulated bf16 would measure the emulation)."""
    if device_kind == "cpu":
        return ("fp32", "bf16") if cpu_flags() & BF16_CPU_FLAGS else ("fp32",)
    return ("fp32", "bf16") if accelerator_bf16 else ("fp32",)
