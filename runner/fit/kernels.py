"""The prompt speed of each weight type's matrix kernel on this machine.

Prompt processing is bound by arithmetic, but not at one rate: llama.cpp's CPU kernels differ per weight
type (some, like Q4_0 and Q4_K, are repacked into an interleaved layout; scripts/bench_fit.py prints the
rates it measures, which differ by more than the 25% a prediction may miss), so a model's FLOPs alone predict
its prompt speed badly when its weight types are not the calibration model's. A type's rate is measured on
demand, once per machine: the calibration model is re-quantized to that type by llama.cpp's own quantizer
(backends.llama_cpp.quantize) and its prompt speed measured. Where a row length does not fit the type's
block, llama.cpp keeps another type for that matrix (Q4_K falls back to Q5_0 for rows of 576); the time of
those matrices is taken out with their own measured rates, and the rest is the type's:

    1 / prompt_tps = sum over types t of 2 * params_t / rate_t  +  attention FLOPs / overall rate
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runner.fit.arch import ModelArch
    from runner.fit.calibrate import Calibration

KERNEL_PROMPT = 256  # tokens: longer than the overall calibration, as a rate is solved from a difference
KERNEL_REPEATS = 3
MIN_OWN_SHARE = 0.2  # below this share of a variant's time, a type's rate is the variant's overall rate


def kernel_seconds(arch: ModelArch, prompt_tokens: int, cal: Calibration) -> float | None:
    """Seconds per prompt token with each weight type at its kernel's rate; None unless every type of the
    model has a measured rate."""
    from runner.fit.speed import attention_flops

    if not arch.prompt_params_by_type or any(t not in cal.type_rates for t, _ in arch.prompt_params_by_type):
        return None
    weights = sum(2.0 * n / cal.type_rates[t] for t, n in arch.prompt_params_by_type)
    return weights + attention_flops(arch, prompt_tokens) / cal.overall_rate


def base_rates(cal: Calibration, arch: ModelArch) -> Calibration:
    """A calibration model of one weight type measures that type's kernel directly: its rate is the overall one."""
    if len(arch.prompt_params_by_type) != 1:
        return cal
    return replace(cal, type_rates={**cal.type_rates, arch.prompt_params_by_type[0][0]: cal.overall_rate})


def missing_types(arch: ModelArch, cal: Calibration) -> list[str]:
    return [t for t, _ in arch.prompt_params_by_type if t not in cal.type_rates]


def measure_types(
    cal: Calibration, types: Iterable[str], model: Path, n_threads: int | None = None
) -> Calibration:
    """`cal` with the rates of `types` measured on re-quantized copies of `model` (the calibration model).
    A type llama.cpp cannot make (IQ2_XXS without an importance matrix, …) is left out."""
    from backends.base import BackendError

    rates = dict(cal.type_rates)
    with tempfile.TemporaryDirectory(prefix="lapbench-kernels-") as tmp:
        for ggml_type in types:
            try:
                _measure(ggml_type, rates, cal, model, Path(tmp), n_threads, pending=set())
            except BackendError:
                continue
    return replace(cal, type_rates=rates)


def _measure(
    ggml_type: str, rates: dict[str, float], cal: Calibration, model: Path, tmp: Path,
    n_threads: int | None, pending: set[str],
) -> None:  # fmt: skip
    from backends.llama_cpp.quantize import requantize
    from runner.fit.calibrate import measure_speed
    from runner.fit.resolve import local_gguf
    from runner.fit.speed import attention_flops

    if ggml_type in rates or ggml_type in pending:
        return
    pending.add(ggml_type)
    variant = tmp / f"{ggml_type}.gguf"
    requantize(model, variant, ggml_type)
    arch = local_gguf(variant).arch
    for other, _ in arch.prompt_params_by_type:  # the fallback types first: their time is taken out
        if other != ggml_type:
            _measure(other, rates, cal, model, tmp, n_threads, pending)
    measured = measure_speed(variant, prompt=KERNEL_PROMPT, repeats=KERNEL_REPEATS, n_threads=n_threads)
    variant.unlink()
    per_token = 1.0 / measured.pp_tps
    work = dict(arch.prompt_params_by_type)
    own = 2.0 * work.get(ggml_type, 0)
    others = sum(2.0 * n / rates[t] for t, n in work.items() if t != ggml_type and t in rates)
    left = per_token - others - attention_flops(arch, measured.prompt_tokens) / cal.overall_rate
    if own and left > MIN_OWN_SHARE * per_token:
        rates[ggml_type] = own / left
    elif own:  # its own matrices are too small a part to solve for: the variant's overall rate
        total = 2.0 * sum(work.values()) + attention_flops(arch, measured.prompt_tokens)
        rates[ggml_type] = total * measured.pp_tps
