"""The context `lapbench run` loads with when `--ctx` is not given (runner.run.config.run_context): the model's
trained context, at most 16384 (the longest gold test functions need about 9000 tokens with their prompt),
read from the real GGUF headers of the test models; the same rule that `lapbench fit --runtime lapbench`
sizes its cache for."""

from __future__ import annotations

from pathlib import Path

from runner.fit.resolve import local_gguf, trained_context
from runner.fit.runtimes import LAPBENCH_CTX_CAP, default_ctx, get_profile
from runner.run.config import DEFAULT_CTX, run_context


def test_a_model_trained_for_less_than_the_cap_keeps_its_own_context(smollm2_gguf: Path) -> None:
    assert trained_context(str(smollm2_gguf)) == 8192
    assert run_context(str(smollm2_gguf), "llama-cpp") == 8192


def test_a_model_trained_for_more_gets_the_cap(gemma_gguf: Path) -> None:
    assert trained_context(str(gemma_gguf)) == 32768
    assert run_context(str(gemma_gguf), "llama-cpp") == LAPBENCH_CTX_CAP == 16384
    # fit sizes lapbench's cache for the same context
    arch = local_gguf(gemma_gguf).arch
    assert default_ctx(get_profile("lapbench"), arch, 0, 0) == run_context(str(gemma_gguf), "llama-cpp")


def test_the_oracle_takes_the_cap_and_a_server_keeps_the_old_default(smollm2_gguf: Path) -> None:
    # forced gold does not depend on positions the model never saw: the longest gold calls must fit
    assert run_context(str(smollm2_gguf), "oracle") == LAPBENCH_CTX_CAP
    assert run_context("qwen3:8b", "openai") == DEFAULT_CTX == 8192


def test_an_unreadable_model_falls_back_to_the_cap(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF\x03\x00\x00\x00truncated")
    assert trained_context(str(broken)) is None
    assert trained_context(str(tmp_path / "missing.gguf")) is None
    assert run_context(str(broken), "llama-cpp") == LAPBENCH_CTX_CAP
