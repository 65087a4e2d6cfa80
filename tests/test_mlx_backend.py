"""MLX backend specifics on the converted default model (the shared promises are in test_backend_contract.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backends.base import BackendError, GenerationRequest, LoadConfig, Message
from backends.mlx.backend import MlxBackend

pytestmark = [pytest.mark.model, pytest.mark.mlx]


@pytest.fixture(scope="module")
def mlx(smollm2_mlx: Path) -> Iterator[MlxBackend]:
    backend = MlxBackend()
    backend.load(LoadConfig(str(smollm2_mlx), n_ctx=256))
    yield backend
    backend.close()


def test_ignore_eos_generates_the_full_budget_and_streams_every_piece(mlx: MlxBackend) -> None:
    pieces: list[str] = []
    request = GenerationRequest(messages=(Message("user", "Say hi."),), max_tokens=12, ignore_eos=True)
    generation = mlx.generate(request, on_token=lambda token, piece: pieces.append(piece))
    assert generation.finish_reason == "length"
    assert generation.stats.generated_tokens == 12
    assert "".join(pieces) == generation.text
    assert not set(generation.tokens) & set(mlx.eos_token_ids)


def test_peak_memory_is_reset_per_call_and_covers_the_weights(mlx: MlxBackend) -> None:
    generation = mlx.generate(GenerationRequest(prompt="The sea", max_tokens=2))
    report = mlx.memory_report()
    assert report["weights"] > 50_000_000  # ~98 MB of 4/8-bit weights
    assert generation.stats.peak_memory_bytes is not None
    assert generation.stats.peak_memory_bytes >= report["weights"]


def test_sampling_is_reproducible_with_a_seed(mlx: MlxBackend) -> None:
    request = GenerationRequest(prompt="My favourite animal is", max_tokens=4, temperature=1.0, seed=7)
    assert mlx.generate(request).tokens == mlx.generate(request).tokens


def test_prompt_longer_than_the_context_is_an_error_generation(mlx: MlxBackend) -> None:
    generation = mlx.generate(GenerationRequest(prompt="word " * 400, max_tokens=4))
    assert generation.finish_reason == "error"
    assert generation.error is not None and "n_ctx=256" in generation.error


def test_closed_backend_refuses_to_generate(smollm2_mlx: Path) -> None:
    backend = MlxBackend()
    with pytest.raises(BackendError, match="load"):
        backend.generate(GenerationRequest(prompt="x"))
    backend.load(LoadConfig(str(smollm2_mlx)))
    backend.close()
    with pytest.raises(BackendError, match="load"):
        backend.tokenize("x")
