"""Predicted decode and prompt speed: from a chip's memory bandwidth, or scaled from this machine's own
calibration (runner.fit.calibrate).

Decode is bound by memory reads: one token reads the active weights (a tied embedding table whole, as the
output head; an untied one not at all) plus the KV cache up to the current depth, so speed scales with
1 / bytes read per token. Prompt processing is bound by arithmetic: one token costs 2 FLOPs per parameter
that multiplies it (not the embedding lookup, nor the output head, evaluated for the last token only) plus
attention over the tokens before it, so speed scales with 1 / FLOPs per token — at the rate of the kernel
of each weight type where the calibration measured it (runner.fit.kernels), else at the calibration
model's overall rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from runner.fit.budget import DENSE_EFFICIENCY_BIG, MOE_FACTOR, Budget
from runner.fit.kernels import kernel_seconds
from runner.fit.memory import KV_TYPES, RuntimeConfig, kv_cells

if TYPE_CHECKING:
    from runner.fit.arch import ModelArch
    from runner.fit.calibrate import Calibration

# Prompt processing vs decode speed on Apple GPUs (llama-bench pp512/tg128 is about 5-20x): an estimate, used
# only when the speed comes from a chip's bandwidth rather than from a calibration.
PP_SPEEDUP = 8.0
PROMPT_TOKENS = 2048  # the prompt length a predicted prompt speed is stated for (the suite's are ~6k)


@dataclass(frozen=True)
class Speed:
    decode_tps: float | None
    prompt_tps: float | None
    source: str


def bytes_per_token(arch: ModelArch, cfg: RuntimeConfig, depth: int) -> float:
    """Bytes read from memory to decode one token at a given depth: active weights + the KV read."""
    k, v = KV_TYPES[cfg.type_k], KV_TYPES[cfg.type_v]
    _, swa_cells = kv_cells(arch, cfg)
    kv = 0.0
    for layer in arch.layers:
        per_token = layer.k_elems * k + layer.v_elems * v
        if layer.kind == "full":
            kv += per_token * depth
        elif layer.kind == "swa":
            kv += per_token * min(depth, layer.window or swa_cells)
        else:
            kv += layer.state_bytes
    weights = float(arch.active_weights_bytes or arch.weights_bytes or 0) - arch.unread_bytes
    return weights + kv


def prompt_flops_per_token(arch: ModelArch, prompt_tokens: int) -> float:
    """FLOPs of one token of a prompt of `prompt_tokens` (attention at the average depth, half of it)."""
    params = arch.prompt_params
    if params is None:
        total = arch.n_params or 0
        share = (arch.active_weights_bytes or 0) / arch.weights_bytes if arch.weights_bytes else 1.0
        params = int(total * share - arch.n_vocab * arch.n_embd)
    return 2.0 * max(params, 1) + attention_flops(arch, prompt_tokens)


def attention_flops(arch: ModelArch, prompt_tokens: int) -> float:
    """FLOPs of one prompt token's attention over the tokens before it (at the average depth, half the prompt)."""
    depth = prompt_tokens / 2
    attention = 0.0
    for layer in arch.layers:
        if layer.kind == "recurrent":
            continue
        keys = min(depth, layer.window) if layer.kind == "swa" and layer.window else depth
        attention += 4 * arch.n_head * arch.head_dim * keys  # q.k and p.v over the cached keys
    return attention


def from_bandwidth(arch: ModelArch, cfg: RuntimeConfig, budget: Budget) -> Speed | None:
    if not budget.bandwidth_gbs:
        return None
    efficiency = budget.chip.efficiency if budget.chip else DENSE_EFFICIENCY_BIG
    if arch.is_moe:
        efficiency *= MOE_FACTOR
    per_token = bytes_per_token(arch, cfg, max(cfg.ctx // 2, 1))
    if not per_token:
        return None
    tps = round(efficiency * budget.bandwidth_gbs * 1e9 / per_token, 2)
    where = budget.chip.name if budget.chip else f"{budget.bandwidth_gbs:g} GB/s"
    return Speed(tps, round(tps * PP_SPEEDUP, 1), f"memory bandwidth of {where} (prompt speed estimated)")


def from_calibration(
    arch: ModelArch, cfg: RuntimeConfig, cal: Calibration, depth: int | None = None, prompt: int | None = None
) -> Speed:
    """This machine's measured speeds on the calibration model, scaled by bytes (decode, at `depth`: half the
    context by default) and FLOPs (prompt, of `prompt` tokens: PROMPT_TOKENS or the context if shorter)."""
    per_token = bytes_per_token(arch, cfg, depth or max(cfg.ctx // 2, 1))
    n_prompt = prompt or min(cfg.ctx, PROMPT_TOKENS)
    decode = _sig(cal.tg_tps * cal.bytes_per_token / per_token) if per_token else None
    seconds = kernel_seconds(arch, n_prompt, cal)
    if seconds is not None:  # each weight type at its own kernel's measured rate
        return Speed(
            decode,
            _sig(1 / seconds),
            f"calibrated on this machine with {cal.model} ({cal.backend}), per kernel",
        )
    pp = _sig(cal.pp_tps * cal.prompt_flops / prompt_flops_per_token(arch, n_prompt))
    return Speed(decode, pp, f"calibrated on this machine with {cal.model} ({cal.backend})")


def _sig(value: float, digits: int = 3) -> float:
    """Rounded to `digits` significant figures: 0.0123 tok/s stays informative, 1234.5 stays 1230."""
    return float(f"{value:.{digits}g}")
