"""Predicted speed on this machine: the calibration on the default model through the real llama.cpp backend,
stored in the data dir and reused, refreshed by --calibrate; and how it scales to other models."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from runner import paths
from runner.cli import app
from runner.fit.calibrate import Calibration
from runner.fit.memory import RuntimeConfig
from runner.fit.resolve import local_gguf
from runner.fit.speed import bytes_per_token, from_calibration, prompt_flops_per_token

runner = CliRunner()


def _fit(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["fit", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def _stored() -> dict[str, Any]:
    return json.loads((paths.data_dir() / "calibration.json").read_text())  # type: ignore[no-any-return]


@pytest.mark.model
def test_fit_measures_this_machine_once_reuses_it_and_refreshes_on_request(smollm2_gguf: Path) -> None:
    first = _fit("gemma-3-27b", "--ctx", "4096")
    assert first["predicted_tps"] > 0 and first["predicted_pp_tps"] > 0 and first["suite_seconds"] > 0
    assert "calibrated on this machine with SmolLM2-135M-Instruct.Q4_1" in first["speed_source"]
    [(key, record)] = _stored().items()
    assert "llama-cpp-python" in key and record["tg_tps"] > 0 and record["pp_tps"] > 0
    again = _fit("gemma-3-27b", "--ctx", "4096")
    assert _stored() == {key: record}  # reused, not measured again
    assert again["predicted_tps"] == first["predicted_tps"]
    _fit("gemma-3-27b", "--ctx", "4096", "--calibrate")
    assert _stored()[key]["created_at"] != record["created_at"]  # measured again
    chip = _fit("gemma-3-27b", "--ctx", "4096", "--chip", "M4 Pro")
    assert chip["speed_source"].startswith("memory bandwidth of M4 Pro")


def test_without_the_default_model_the_speed_is_unknown_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAPBENCH_MODELS_DIR", str(tmp_path / "no-models"))
    out = _fit("gemma-3-27b", "--ctx", "4096")
    assert out["predicted_tps"] is None and out["suite_seconds"] is None
    assert any("no speed calibration" in n and "lapbench setup" in n for n in out["notes"])
    assert not (paths.data_dir() / "calibration.json").exists()


@pytest.mark.model
def test_scaling_is_exact_on_the_calibration_model_and_inverse_in_bytes_and_flops(
    smollm2_gguf: Path, gemma_gguf: Path
) -> None:
    smol, gemma = local_gguf(smollm2_gguf).arch, local_gguf(gemma_gguf).arch
    cfg = RuntimeConfig(ctx=512, device="cpu")
    cal = Calibration(
        model="smol", backend="llama-cpp-python", pp_tps=400.0, tg_tps=40.0, prompt_tokens=128,
        generated_tokens=32, bytes_per_token=bytes_per_token(smol, cfg, 144),
        prompt_flops=prompt_flops_per_token(smol, 128), machine="m", created_at="t",
    )  # fmt: skip
    itself = from_calibration(smol, cfg, cal, depth=144, prompt=128)
    assert (itself.decode_tps, itself.prompt_tps) == (40.0, 400.0)
    other = from_calibration(gemma, cfg, cal, depth=144, prompt=128)
    assert other.decode_tps == pytest.approx(
        40.0 * cal.bytes_per_token / bytes_per_token(gemma, cfg, 144), rel=6e-3
    )
    assert other.prompt_tps == pytest.approx(
        400.0 * cal.prompt_flops / prompt_flops_per_token(gemma, 128), rel=6e-3
    )
    # both models tie their embeddings: decode reads the whole table (as the output head), a prompt token
    # multiplies only the transformer blocks' weights
    assert smol.unread_bytes == gemma.unread_bytes == 0
    assert gemma.prompt_params is not None and gemma.prompt_params < (gemma.n_params or 0) // 2
    untied = replace(gemma, unread_bytes=10 << 20)
    assert bytes_per_token(untied, cfg, 144) == bytes_per_token(gemma, cfg, 144) - (10 << 20)
