"""Prompt speed per weight type: the model's parameters split by ggml type, each type's kernel rate solved
from a re-quantized copy of the calibration model (real llama.cpp quantizer and backend), and the
prediction that adds the types up."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from backends.base import BackendError
from backends.llama_cpp.quantize import requantize
from runner.fit import kernels
from runner.fit.calibrate import Calibration
from runner.fit.memory import RuntimeConfig
from runner.fit.resolve import local_gguf
from runner.fit.speed import attention_flops, from_calibration, prompt_flops_per_token


def _cal(arch_flops: float, pp: float = 100.0, **rates: float) -> Calibration:
    return Calibration(
        model="m", backend="b", pp_tps=pp, tg_tps=10.0, prompt_tokens=128, generated_tokens=32,
        bytes_per_token=1e8, prompt_flops=arch_flops, machine="x", created_at="t", type_rates=dict(rates),
    )  # fmt: skip


@pytest.mark.model
def test_parameters_are_split_by_weight_type(smollm2_gguf: Path, gemma_gguf: Path) -> None:
    smol, gemma = local_gguf(smollm2_gguf).arch, local_gguf(gemma_gguf).arch
    assert dict(smol.prompt_params_by_type).keys() == {
        "Q4_1"
    }  # the Q8_0 embedding multiplies no prompt token
    assert dict(gemma.prompt_params_by_type).keys() >= {"Q5_0", "Q4_K", "Q6_K"}
    for arch in (smol, gemma):
        assert sum(n for _, n in arch.prompt_params_by_type) == arch.prompt_params


@pytest.mark.model
def test_per_kernel_prediction_weights_each_type_by_its_own_rate(
    smollm2_gguf: Path, gemma_gguf: Path
) -> None:
    smol, gemma = local_gguf(smollm2_gguf).arch, local_gguf(gemma_gguf).arch
    cfg = RuntimeConfig(ctx=512, device="cpu")
    cal = kernels.base_rates(_cal(prompt_flops_per_token(smol, 128)), smol)
    assert cal.type_rates == {"Q4_1": pytest.approx(cal.overall_rate)}
    assert from_calibration(smol, cfg, cal, prompt=128).prompt_tps == pytest.approx(100.0, rel=5e-3)
    assert kernels.kernel_seconds(gemma, 128, cal) is None  # gemma's types are not measured: FLOPs only
    assert kernels.missing_types(gemma, cal) == [t for t, _ in gemma.prompt_params_by_type]
    fast = replace(cal, type_rates={t: 4 * cal.overall_rate for t, _ in gemma.prompt_params_by_type})
    slow = replace(cal, type_rates={t: cal.overall_rate / 2 for t, _ in gemma.prompt_params_by_type})
    expected = (
        2 * gemma.prompt_params / (4 * cal.overall_rate) + attention_flops(gemma, 128) / cal.overall_rate
    )
    assert kernels.kernel_seconds(gemma, 128, fast) == pytest.approx(expected)
    fast_pp = from_calibration(gemma, cfg, fast, prompt=128).prompt_tps
    slow_pp = from_calibration(gemma, cfg, slow, prompt=128).prompt_tps
    assert fast_pp and slow_pp and fast_pp > 6 * slow_pp
    assert "per kernel" in from_calibration(gemma, cfg, fast, prompt=128).source


@pytest.mark.model
def test_a_kernel_rate_is_measured_on_a_requantized_copy_of_the_calibration_model(
    smollm2_gguf: Path, tmp_path: Path
) -> None:
    smol = local_gguf(smollm2_gguf).arch
    cal = kernels.base_rates(_cal(prompt_flops_per_token(smol, 128), pp=150.0), smol)
    measured = kernels.measure_types(cal, ["Q4_0", "IQ2_XXS"], smollm2_gguf, n_threads=1)
    assert set(measured.type_rates) == {"Q4_1", "Q4_0"}  # IQ2_XXS needs an importance matrix: left out
    assert measured.type_rates["Q4_0"] > 0 and measured.type_rates["Q4_1"] == cal.type_rates["Q4_1"]
    copy = tmp_path / "q8.gguf"
    requantize(smollm2_gguf, copy, "Q8_0")
    assert dict(local_gguf(copy).arch.prompt_params_by_type).keys() == {"Q8_0"}


def test_the_quantizer_refuses_bad_input_with_a_reason(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\x00" * 40)
    with pytest.raises(BackendError, match=r"could not quantize broken\.gguf to Q4_0"):
        requantize(broken, tmp_path / "out.gguf", "Q4_0")
    assert not (tmp_path / "out.gguf").exists()
    with pytest.raises(BackendError, match="importance matrix"):
        requantize(broken, tmp_path / "out.gguf", "IQ1_S")
