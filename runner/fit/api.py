"""The one function each CLI command calls: fit one model, or rank the whole catalog."""

from __future__ import annotations

import platform
from dataclasses import dataclass, replace
from pathlib import Path

from runner.errors import ConfigError, LapbenchError
from runner.fit.budget import resolve_budget
from runner.fit.memory import KV_TYPES, RuntimeConfig
from runner.fit.resolve import Resolved, resolve_catalog, resolve_model
from runner.fit.suite import suite_tokens
from runner.fit.verdict import FitReport, build_report
from runner.models.catalog import load_catalog

VERDICT_ORDER = {"fits": 0, "tight": 1, "does not fit": 2}


@dataclass(frozen=True)
class FitOptions:
    ctx: int = 8192
    memory: str | None = None
    chip: str | None = None
    bandwidth: float | None = None
    kv_type: str = "f16"
    flash_attn: bool | None = None  # default: off (llama-cpp-python), on when the KV cache is quantised
    swa_full: bool = True  # llama-cpp-python (lapbench's llama.cpp backend) allocates full-size SWA caches
    device: str | None = None  # "metal" or "cpu"; default: metal for a Mac (this one or --chip), else cpu
    models_dir: Path | None = None


def runtime_for(opts: FitOptions) -> RuntimeConfig:
    if opts.kv_type not in KV_TYPES:
        raise ConfigError(f"unknown KV cache type {opts.kv_type!r}", hint=f"one of: {', '.join(KV_TYPES)}")
    if opts.ctx < 1:
        raise ConfigError(f"--ctx must be positive, got {opts.ctx}")
    on_mac = platform.system() == "Darwin"
    device = opts.device or ("metal" if opts.chip or on_mac else "cpu")
    if device not in ("metal", "cpu"):
        raise ConfigError(f"unknown device {device!r}", hint="metal or cpu")
    # llama.cpp quantises the V cache only with flash attention
    flash_attn = (
        opts.flash_attn if opts.flash_attn is not None else opts.kv_type not in ("f16", "bf16", "f32")
    )
    return RuntimeConfig(
        ctx=opts.ctx, type_k=opts.kv_type, type_v=opts.kv_type if flash_attn else "f16", flash_attn=flash_attn,
        swa_full=opts.swa_full, device="metal" if device == "metal" else "cpu",
    )  # fmt: skip


def _report(found: Resolved, opts: FitOptions) -> FitReport:
    budget = resolve_budget(opts.memory, opts.chip, opts.bandwidth)
    runtime = runtime_for(opts)
    if found.source_kind == "config":  # an MLX / safetensors folder runs on mlx-lm, not llama.cpp
        runtime = replace(runtime, backend="mlx")
    return build_report(
        found.arch, runtime, budget, model=found.label, source_kind=found.source_kind,
        quant=found.quant, suite=suite_tokens(), bytes_read=found.bytes_read, file_size=found.file_size,
    )  # fmt: skip


def fit_model(spec: str, quant: str | None, opts: FitOptions) -> FitReport:
    return _report(resolve_model(spec, quant, opts.models_dir), opts)


def fit_all(opts: FitOptions) -> list[FitReport]:
    """Every catalog model × quant, best first: verdict, then the fastest predicted decode, then size."""
    reports: list[FitReport] = []
    for entry in load_catalog():
        names: list[str | None] = [q.name for q in entry.quant] or [None]
        for name in names:
            try:
                found = resolve_catalog(entry, name, opts.models_dir)
            except LapbenchError:
                continue  # an entry without architecture numbers cannot be estimated; `fit ID` says why
            reports.append(_report(found, opts))
    return sorted(
        reports,
        key=lambda r: (VERDICT_ORDER[r.verdict], -(r.predicted_tps or 0.0), -r.memory.total_bytes),
    )
