"""How much memory a model may use, and how fast memory can be read, on this machine or a named Mac.

On Apple Silicon the budget is what Metal lets the GPU wire (`metal_default_budget`); elsewhere it is RAM
minus a reserve for the OS. Chip bandwidths are Apple's published figures, with the sources named per chip.
"""

from __future__ import annotations

import platform
import re
import subprocess
from dataclasses import dataclass

from runner.errors import ConfigError

GIB = 1 << 30

# chip -> (bandwidth GB/s, largest RAM configuration in GB or None when unknown, source keys)
CHIPS: dict[str, tuple[float, int | None, str]] = {
    "M1": (68.25, None, "LLAMACPP_PR1642"),
    "M1 Pro": (200.0, None, "LLAMACPP_PR1642"),
    "M1 Max": (400.0, 64, "M1MAX, LLAMACPP_PR1642"),
    "M1 Ultra": (800.0, None, "M2MAX"),
    "M2": (100.0, None, "ARS_M4"),
    "M2 Pro": (200.0, None, "ARS_M4"),
    "M2 Max": (400.0, 96, "M2MAX"),
    "M2 Ultra": (800.0, None, "M2MAX"),
    "M3": (100.0, None, "ARS_M4"),
    "M3 Pro": (150.0, None, "MACRUMORS_M3, ARS_M4"),
    "M3 Max 14c/30c": (300.0, None, "MACRUMORS_M3"),
    "M3 Max 16c/40c": (400.0, None, "MACRUMORS_M3"),
    "M3 Ultra": (819.0, 512, "M3ULTRA"),
    "M4": (120.0, None, "ARS_M4"),
    "M4 Pro": (273.0, 64, "ARS_M4"),
    "M4 Max 14c/32c": (410.0, 36, "ARS_M4"),
    "M4 Max 16c/40c": (546.0, 128, "ARS_M4, M3ULTRA"),
    "M5": (153.0, None, "M5_BASE"),
    "M5 Pro": (307.0, 64, "MACRUMORS_M5"),
    "M5 Max": (614.0, 128, "MACRUMORS_M5"),
}

# Decode efficiency (fraction of peak bandwidth reached), from published llama.cpp decode speeds: dense on
# Max chips ~57% (M1 Max, Llama-3.1-8B), on base chips ~86% (M4); MoE ~25% on M1 Max (Qwen3-30B-A3B), i.e.
# 0.44 of dense.
DENSE_EFFICIENCY_BIG, DENSE_EFFICIENCY_BASE, MOE_FACTOR = 0.57, 0.86, 0.44


@dataclass(frozen=True)
class Chip:
    name: str
    bandwidth_gbs: float
    ram_gb: int | None
    source: str

    @property
    def efficiency(self) -> float:
        return DENSE_EFFICIENCY_BASE if self.name in ("M1", "M2", "M3", "M4", "M5") else DENSE_EFFICIENCY_BIG


@dataclass(frozen=True)
class Budget:
    budget_bytes: int
    ram_bytes: int
    rule: str
    chip: Chip | None = None
    bandwidth_gbs: float | None = None


def find_chip(name: str) -> Chip:
    """Case-insensitive; a name with two variants ("M4 Max") picks the faster one."""
    wanted = " ".join(name.replace("Apple", "").split()).lower()
    exact = [k for k in CHIPS if k.lower() == wanted]
    matches = exact or [k for k in CHIPS if k.lower().startswith(wanted + " ")]
    if not matches:
        raise ConfigError(f"unknown chip {name!r}", hint=f"one of: {', '.join(CHIPS)}")
    best = max(matches, key=lambda k: CHIPS[k][0])
    bandwidth, ram, source = CHIPS[best]
    return Chip(best, bandwidth, ram, source)


def parse_size(text: str) -> int:
    """'64GB', '64G', '48GiB', '51539MB' -> bytes. RAM is sold in binary units, so GB means GiB here."""
    match = re.fullmatch(r"\s*([\d.]+)\s*([KMGT]?)(i?B)?\s*", text, re.IGNORECASE)
    if not match:
        raise ConfigError(f"cannot read the size {text!r}", hint="write it like 64GB or 48000MB")
    scale = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}[match.group(2).upper()]
    return int(float(match.group(1)) * scale)


METAL_TWO_THIRDS_UP_TO = 36 * GIB


def metal_default_budget(ram_bytes: int, wired_limit_mb: int | None = None) -> int:
    """Bytes the GPU may wire on an Apple Silicon Mac (Metal's `recommendedMaxWorkingSetSize`).

    `sudo sysctl iogpu.wired_limit_mb=N` with N > 0 sets the limit to N MiB (until reboot); 0 or unset
    leaves macOS's default: 2/3 of RAM on machines up to 36 GB, 3/4 above. Source: Metal's
    recommendedMaxWorkingSetSize as llama.cpp logs it at load (16 GB: 10922.67 MiB = 2/3, llama-cpp-python
    issue #687; 64 GB: 49152 MiB = 3/4, llama.cpp issue #1870; 96 GB: 72 GiB = 3/4), and Apple's
    https://developer.apple.com/documentation/metal/mtldevice/recommendedmaxworkingsetsize . macOS 26
    reports about 84% on a 128 GB Mac, so this errs on the safe side there.
    """
    if wired_limit_mb:
        return wired_limit_mb << 20
    return ram_bytes * 2 // 3 if ram_bytes <= METAL_TWO_THIRDS_UP_TO else ram_bytes * 3 // 4


def metal_budget_rule(ram_bytes: int, wired_limit_mb: int | None = None) -> str:
    """`metal_default_budget`'s rule for these inputs, in words for the fit output."""
    if wired_limit_mb:
        return f"Metal limit iogpu.wired_limit_mb={wired_limit_mb}"
    share = "2/3" if ram_bytes <= METAL_TWO_THIRDS_UP_TO else "3/4"
    return f"Metal working set ≈ {share} of RAM (macOS default; raise it with iogpu.wired_limit_mb)"


def _sysctl(name: str) -> int | None:
    try:
        out = subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, timeout=5, check=True)
        return int(out.stdout.strip())
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def machine_ram() -> int:
    import psutil

    return int(psutil.virtual_memory().total)


def resolve_budget(
    memory: str | None = None, chip_name: str | None = None, bandwidth: float | None = None
) -> Budget:
    chip = find_chip(chip_name) if chip_name else None
    on_mac = platform.system() == "Darwin" and platform.machine() == "arm64"
    if memory:
        ram = parse_size(memory)
    elif chip and chip.ram_gb:
        ram = chip.ram_gb * GIB
    elif chip:
        raise ConfigError(f"no RAM size is known for {chip.name}", hint="add --memory, e.g. --memory 64GB")
    else:
        ram = machine_ram()
    bw = bandwidth or (chip.bandwidth_gbs if chip else None)
    if chip or on_mac:
        wired = _sysctl("iogpu.wired_limit_mb") if on_mac and not memory and not chip else None
        return Budget(metal_default_budget(ram, wired), ram, metal_budget_rule(ram, wired), chip, bw)
    reserve = max(2 * GIB, ram // 10)
    return Budget(ram - reserve, ram, f"RAM minus a {reserve / GIB:.1f} GiB reserve for the OS", None, bw)
