"""Facts about the machine a run or a bench happened on, recorded with every result (runs.machine_json).

`collect_machine_info()` is cheap (no heavy imports: library versions come from package metadata) and
never fails: a fact that cannot be read is None. On macOS it asks `sysctl` for the chip
(machdep.cpu.brand_string), the RAM (hw.memsize) and the Metal working-set limit (iogpu.wired_limit_mb;
0 means macOS's default, which `metal_budget_bytes` reports by `runner.fit.budget.metal_default_budget`).
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import psutil
from pydantic import BaseModel, Field

from runner.fit.budget import metal_default_budget

LIBRARIES: dict[str, str] = {
    "lapbench": "lapbench",
    "llama_cpp": "llama-cpp-python",
    "llguidance": "llguidance",
    "mlx": "mlx",
    "mlx_lm": "mlx-lm",
    "pydantic": "pydantic",
    "psutil": "psutil",
    "numpy": "numpy",
}
"""Key in MachineInfo.libraries -> distribution name."""


class MachineInfo(BaseModel):
    os: str = Field(description="operating system name, e.g. Linux, Darwin")
    os_version: str
    arch: str
    python: str
    hostname_hash: str = Field(description="not the hostname itself: a short hash, to tell machines apart")
    cpu_model: str | None
    cpu_cores_physical: int | None
    cpu_cores_logical: int | None
    ram_bytes: int
    gpu: str | None = Field(default=None, description="GPU or chip (Apple Silicon: the chip name)")
    metal_wired_limit_mb: int | None = Field(
        default=None, description="macOS iogpu.wired_limit_mb, 0 = default"
    )
    metal_budget_bytes: int | None = Field(default=None, description="what Metal may wire on macOS")
    libraries: dict[str, str] = Field(default_factory=dict, description="installed versions")
    backend_details: dict[str, str] = Field(
        default_factory=dict, description="llama.cpp system info (CPU features), MLX device and memory limit"
    )
    backend: str | None = None
    n_threads: int | None = None
    n_ctx: int | None = None
    quant: str | None = None


def _sysctl(name: str) -> str | None:
    try:
        out = subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    value = out.stdout.strip()
    return value if out.returncode == 0 and value else None


def _linux_cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "processor\t: arm")):
                return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def _linux_gpu() -> str | None:
    """NVIDIA cards through the driver's proc files; None when there is none (the CPU-only case)."""
    names = []
    for info in sorted(Path("/proc/driver/nvidia/gpus").glob("*/information")):
        for line in info.read_text().splitlines():
            if line.startswith("Model:"):
                names.append(line.split(":", 1)[1].strip())
    return ", ".join(names) or None


def library_versions() -> dict[str, str]:
    versions = {}
    for key, dist in LIBRARIES.items():
        try:
            versions[key] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return versions


def backend_details(backend: str | None) -> dict[str, str]:
    """What the chosen backend reports about itself; imports its library (the run loads it anyway)."""
    details: dict[str, str] = {}
    try:
        if backend == "llama-cpp":
            import llama_cpp

            details["system_info"] = llama_cpp.llama_print_system_info().decode("utf-8", "replace").strip()
        elif backend == "mlx":
            import mlx.core as mx

            details["device"] = str(mx.default_device())
            info = mx.device_info() if hasattr(mx, "device_info") else {}
            details.update({k: str(v) for k, v in info.items() if isinstance(v, (int, str))})
    except (ImportError, OSError, AttributeError, RuntimeError):
        return details
    return details


def _hostname_hash() -> str:
    import hashlib

    return hashlib.sha256(platform.node().encode()).hexdigest()[:12]


def collect_machine_info(
    *,
    backend: str | None = None,
    n_threads: int | None = None,
    n_ctx: int | None = None,
    quant: str | None = None,
) -> MachineInfo:
    """The machine's facts plus the run's settings that shape performance (backend, threads, context, quant)."""
    ram = psutil.virtual_memory().total
    cpu_model: str | None
    gpu: str | None = None
    wired_mb: int | None = None
    budget: int | None = None
    if sys.platform == "darwin":
        cpu_model = _sysctl("machdep.cpu.brand_string")
        ram = int(_sysctl("hw.memsize") or ram)
        if platform.machine() == "arm64":
            gpu = cpu_model
        wired = _sysctl("iogpu.wired_limit_mb")
        if wired is not None and wired.isdigit():
            wired_mb = int(wired)
            budget = metal_default_budget(ram, wired_mb)
    else:
        cpu_model = _linux_cpu_model() if sys.platform.startswith("linux") else platform.processor() or None
        gpu = _linux_gpu() if sys.platform.startswith("linux") else None
    return MachineInfo(
        os=platform.system(),
        os_version=platform.release()
        if sys.platform != "darwin"
        else platform.mac_ver()[0] or platform.release(),
        arch=platform.machine(),
        python=platform.python_version(),
        hostname_hash=_hostname_hash(),
        cpu_model=cpu_model,
        cpu_cores_physical=psutil.cpu_count(logical=False),
        cpu_cores_logical=psutil.cpu_count(logical=True) or os.cpu_count(),
        ram_bytes=ram,
        gpu=gpu,
        metal_wired_limit_mb=wired_mb,
        metal_budget_bytes=budget,
        libraries=library_versions(),
        backend_details=backend_details(backend),
        backend=backend,
        n_threads=n_threads,
        n_ctx=n_ctx,
        quant=quant,
    )
