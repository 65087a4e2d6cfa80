"""The one function each CLI command calls: fit one model, or rank the whole catalog."""

from __future__ import annotations

import platform
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from runner.errors import ConfigError, LapbenchError
from runner.fit.budget import Budget, resolve_budget
from runner.fit.calibrate import Calibration, with_kernels
from runner.fit.memory import KV_TYPES, RuntimeConfig
from runner.fit.resolve import Resolved, resolve_catalog, resolve_model
from runner.fit.runtimes import (
    DEFAULT_RUNTIME,
    FIT_MARGIN_BYTES,
    PROFILES,
    RuntimeProfile,
    default_ctx,
    get_profile,
)
from runner.fit.speed import from_bandwidth, from_calibration
from runner.fit.suite import suite_tokens
from runner.fit.verdict import FitReport, build_report, max_context
from runner.models.catalog import load_catalog

VERDICT_ORDER = {"fits": 0, "tight": 1, "does not fit": 2}
UNQUANTISED = ("f16", "bf16", "f32")


@dataclass(frozen=True)
class FitOptions:
    ctx: int | None = None  # None: the runtime's own default context
    memory: str | None = None
    chip: str | None = None
    bandwidth: float | None = None
    kv_type: str = "f16"
    flash_attn: bool | None = None  # None: the runtime's default (llama.cpp needs it for a quantised V cache)
    swa_full: bool | None = None  # None: the runtime's default
    runtime: str = DEFAULT_RUNTIME
    device: str | None = None  # "metal" or "cpu"; default: metal for a Mac (this one or --chip), else cpu
    models_dir: Path | None = None
    remote: bool = False  # read a catalog model's header from its hub repositories when it is not local
    calibration: Literal["off", "use", "refresh"] = "off"  # this machine's speed when no chip or bandwidth


def runtime_for(opts: FitOptions, profile: RuntimeProfile | None = None) -> RuntimeConfig:
    profile = profile or get_profile(opts.runtime)
    if opts.kv_type not in KV_TYPES:
        raise ConfigError(f"unknown KV cache type {opts.kv_type!r}", hint=f"one of: {', '.join(KV_TYPES)}")
    if opts.ctx is not None and opts.ctx < 1:
        raise ConfigError(f"--ctx must be positive, got {opts.ctx}")
    on_mac = platform.system() == "Darwin"
    device = opts.device or ("metal" if opts.chip or on_mac else "cpu")
    if device not in ("metal", "cpu"):
        raise ConfigError(f"unknown device {device!r}", hint="metal or cpu")
    quantised = opts.kv_type not in UNQUANTISED
    flash_attn = opts.flash_attn
    if flash_attn is None:  # "auto" is on for Metal and CPU; llama.cpp quantises V only with flash attention
        flash_attn = True if profile.flash_attn is None else profile.flash_attn or quantised
    return RuntimeConfig(
        ctx=opts.ctx or profile.default_ctx, n_ubatch=profile.n_ubatch, type_k=opts.kv_type,
        type_v=opts.kv_type if flash_attn or profile.backend == "mlx" else "f16", flash_attn=flash_attn,
        swa_full=profile.swa_full if opts.swa_full is None else opts.swa_full, n_seq=profile.n_seq,
        kv_unified=profile.kv_unified, saved_state_limit=profile.saved_state_limit,
        device="metal" if device == "metal" else "cpu", backend=profile.backend,
    )  # fmt: skip


def _report(found: Resolved, opts: FitOptions, budget: Budget, cal: Calibration | None) -> FitReport:
    profile = get_profile(opts.runtime)
    notes = list(found.notes)
    if found.source_kind == "config" and profile.backend != "mlx":
        notes.append("an MLX / safetensors folder runs on mlx-lm: sized for --runtime mlx")
        profile = PROFILES["mlx"]
    cfg = runtime_for(opts, profile)
    if opts.ctx is None and profile.ctx_rule != "fixed":
        fits = max_context(found.arch, cfg, budget.budget_bytes - FIT_MARGIN_BYTES)
        gpu = budget.budget_bytes if cfg.device == "metal" else 0
        cfg = replace(cfg, ctx=default_ctx(profile, found.arch, gpu, fits))
    if opts.ctx is None:
        notes.append(f"ctx {cfg.ctx}: {profile.name}'s default (--ctx to choose)")
    speed = from_bandwidth(found.arch, cfg, budget)
    if speed is None and cal is not None:
        speed = from_calibration(found.arch, cfg, with_kernels(cal, found.arch))
        if profile.backend == "mlx":
            speed = replace(speed, source=speed.source + "; MLX speed may differ")
    return build_report(
        found.arch, cfg, budget, model=found.label, source_kind=found.source_kind, quant=found.quant,
        suite=suite_tokens(), bytes_read=found.bytes_read, file_size=found.file_size, speed=speed,
        runtime_name=profile.name, notes=tuple(notes),
    )  # fmt: skip


def _calibration(opts: FitOptions) -> tuple[Calibration | None, str | None]:
    if opts.calibration == "off" or ((opts.chip or opts.bandwidth) and opts.calibration != "refresh"):
        return None, None
    from runner.fit.calibrate import this_machine

    return this_machine(refresh=opts.calibration == "refresh")


def fit_model(spec: str, quant: str | None, opts: FitOptions) -> FitReport:
    runtime_for(opts)  # a bad option is reported before any file, hub or calibration is touched
    budget = resolve_budget(opts.memory, opts.chip, opts.bandwidth)
    found = resolve_model(spec, quant, opts.models_dir, opts.remote)
    cal, why = _calibration(opts)
    report = _report(found, opts, budget, cal)
    return replace(report, notes=(*report.notes, why)) if why else report


def fit_all(opts: FitOptions) -> list[FitReport]:
    """Every catalog model × quant, best first: verdict, then the fastest predicted decode, then size."""
    runtime_for(opts)
    budget = resolve_budget(opts.memory, opts.chip, opts.bandwidth)
    cal, _ = _calibration(opts)
    reports: list[FitReport] = []
    for entry in load_catalog():
        names: list[str | None] = [q.name for q in entry.quant] or [None]
        for name in names:
            try:
                found = resolve_catalog(entry, name, opts.models_dir)
            except LapbenchError:
                continue  # an entry without architecture numbers cannot be estimated; `fit ID` says why
            reports.append(_report(found, opts, budget, cal))
    return sorted(
        reports,
        key=lambda r: (VERDICT_ORDER[r.verdict], -(r.predicted_tps or 0.0), -r.memory.total_bytes),
    )
