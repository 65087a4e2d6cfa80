"""The answer of `lapbench fit`: the memory terms, the verdict against the budget, the largest context that
fits, the predicted decode speed and the predicted wall time of a benchmark suite."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from runner.errors import ConfigError
from runner.fit.arch import ModelArch
from runner.fit.budget import Budget
from runner.fit.memory import MemoryEstimate, RuntimeConfig, estimate_memory
from runner.fit.speed import Speed
from runner.fit.suite import SuiteTokens

TIGHT_FRACTION = 0.9  # above 90% of the budget the OS, the browser and the KV growth of a long answer compete
MIN_CTX, CTX_STEP, MAX_SEARCH_CTX = 512, 256, 1 << 21


@dataclass(frozen=True)
class FitReport:
    model: str
    source_kind: str
    quant: str | None
    memory: MemoryEstimate
    budget: Budget
    verdict: str
    max_ctx: int
    predicted_tps: float | None
    suite_seconds: float | None
    suite_tokens: SuiteTokens
    arch: ModelArch
    runtime: RuntimeConfig
    bytes_read: int = 0
    file_size: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)
    predicted_pp_tps: float | None = None
    speed_source: str | None = None
    runtime_name: str = "lapbench"

    def as_json(self) -> dict[str, Any]:
        m = self.memory
        return {
            "model": self.model, "quant": self.quant, "source": self.source_kind, "ctx": m.ctx,
            "weights_bytes": m.weights_bytes, "kv_bytes": m.kv_bytes, "compute_bytes": m.compute_bytes,
            "overhead_bytes": m.overhead_bytes, "saved_state_bytes": m.saved_state_bytes, "total_bytes": m.total_bytes, "budget_bytes": self.budget.budget_bytes,
            "verdict": self.verdict, "max_ctx": self.max_ctx, "predicted_tps": self.predicted_tps,
            "predicted_pp_tps": self.predicted_pp_tps, "speed_source": self.speed_source,
            "suite_seconds": self.suite_seconds, "suite_tokens": self.suite_tokens.as_json(),
            "kv_detail": {"full_bytes": m.kv_full_bytes, "sliding_window_bytes": m.kv_swa_bytes,
                          "recurrent_state_bytes": m.recurrent_bytes},
            "layers": {"full": self.arch.count("full"), "sliding_window": self.arch.count("swa"),
                       "recurrent": self.arch.count("recurrent")},
            "active_weights_bytes": self.arch.active_weights_bytes, "budget_rule": self.budget.rule,
            "bandwidth_gbs": self.budget.bandwidth_gbs, "chip": self.budget.chip.name if self.budget.chip else None,
            "runtime": {"name": self.runtime_name, "backend": self.runtime.backend, "device": self.runtime.device,
                        "type_k": self.runtime.type_k, "type_v": self.runtime.type_v,
                        "flash_attn": self.runtime.flash_attn, "swa_full": self.runtime.swa_full,
                        "n_ubatch": self.runtime.n_ubatch, "n_seq": self.runtime.n_seq,
                        "kv_unified": self.runtime.kv_unified},
            "bytes_read": self.bytes_read, "file_size": self.file_size, "notes": list(self.notes),
        }  # fmt: skip


def verdict_for(total: int, budget: int) -> str:
    if total <= budget * TIGHT_FRACTION:
        return "fits"
    return "tight" if total <= budget else "does not fit"


def max_context(arch: ModelArch, cfg: RuntimeConfig, budget: int, weights: int | None = None) -> int:
    """Largest context (multiple of 256, up to the model's maximum) whose total fits the budget; 0 if none."""
    hi = min(arch.max_context or MAX_SEARCH_CTX, MAX_SEARCH_CTX)

    def fits(ctx: int) -> bool:
        return estimate_memory(arch, replace(cfg, ctx=ctx), weights).total_bytes <= budget

    if not fits(min(MIN_CTX, hi)):
        return 0
    if fits(hi):
        return hi
    lo_step, hi_step = MIN_CTX // CTX_STEP, hi // CTX_STEP
    while hi_step - lo_step > 1:
        mid = (lo_step + hi_step) // 2
        lo_step, hi_step = (mid, hi_step) if fits(mid * CTX_STEP) else (lo_step, mid)
    return lo_step * CTX_STEP


def build_report(
    arch: ModelArch, cfg: RuntimeConfig, budget: Budget, *, model: str, source_kind: str, quant: str | None,
    suite: SuiteTokens, bytes_read: int = 0, file_size: int = 0, speed: Speed | None = None,
    runtime_name: str = "lapbench", notes: tuple[str, ...] = (),
) -> FitReport:  # fmt: skip
    memory = estimate_memory(arch, cfg)
    tps, pp = (speed.decode_tps, speed.prompt_tps) if speed else (None, None)
    suite_seconds = round(suite.generated / tps + suite.prompt / pp, 1) if tps and pp else None
    said = [*notes, *arch.notes]
    if arch.count("swa") and cfg.swa_full:
        windowed = estimate_memory(arch, replace(cfg, swa_full=False))
        said.append(
            f"sliding-window layers keep the full context (swa_full); with a window-sized cache "
            f"(llama-server, LM Studio, Ollama, lapbench) the KV cache would be {windowed.kv_bytes / (1 << 20):.1f} MiB"
        )
    if arch.weights_bytes is None:
        said.append("weights unknown (no file size or bits per weight): the total is a lower bound")
    if arch.max_context and cfg.ctx > arch.max_context:
        said.append(f"ctx {cfg.ctx} exceeds the model's maximum context {arch.max_context}")
    return FitReport(
        model=model, source_kind=source_kind, quant=quant, memory=memory, budget=budget,
        verdict=verdict_for(memory.total_bytes, budget.budget_bytes),
        max_ctx=max_context(arch, cfg, budget.budget_bytes), predicted_tps=tps, suite_seconds=suite_seconds,
        suite_tokens=suite, arch=arch, runtime=cfg, bytes_read=bytes_read, file_size=file_size, notes=tuple(said),
        predicted_pp_tps=pp, speed_source=speed.source if speed else None, runtime_name=runtime_name,
    )  # fmt: skip


def refuse_if_it_does_not_fit(report: FitReport, *, force: bool, label: str | None = None) -> None:
    """The one refusal of `run` and `pull`: a model that `fit` says will not fit is neither loaded nor
    downloaded, unless --force."""
    if force or report.verdict != "does not fit":
        return
    need, have = report.memory.total_bytes / 2**30, report.budget.budget_bytes / 2**30
    smaller_ctx = f"lower --ctx (it fits up to {report.max_ctx}), " if report.max_ctx else ""
    raise ConfigError(
        f"{label or report.model} does not fit: needs about {need:.1f} GiB at --ctx {report.memory.ctx}, "
        f"the budget is {have:.1f} GiB ({report.budget.rule})",
        hint=f"{smaller_ctx}pick a smaller quant, or pass --force",
    )
