"""Test isolation and the real model files.

Every test runs with LAPBENCH_HOME and the results store inside its own tmp_path, so nothing is written
outside a temporary directory. The model files are read (never written) from the models directory that
`lapbench setup --test-models` filled before the tests; in CI a missing model is a failure, not a skip."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Hypothesis keeps its example database in the working directory unless told otherwise.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", tempfile.mkdtemp(prefix="lapbench-hypothesis-"))

import pytest

from runner import paths

# Resolved once, before any test overrides the environment.
MODELS_DIR = paths.models_dir()
SMOLLM2_GGUF = MODELS_DIR / "SmolLM2-135M-Instruct.Q4_1.gguf"
GEMMA_GGUF = MODELS_DIR / "gemma-3-270m-q4_k_m.gguf"
SMOLLM2_MLX = MODELS_DIR / "mlx" / "smollm2-135m-q4_1"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "lapbench-home"
    monkeypatch.setenv("LAPBENCH_HOME", str(home))
    monkeypatch.setenv("LAPBENCH_RESULTS", str(home / "results.sqlite"))
    monkeypatch.setenv("LAPBENCH_MODELS_DIR", str(MODELS_DIR))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))
    # Model stores of other tools (LM Studio, Ollama, llama.cpp's cache) are found from HOME and these:
    # a test must never see, let alone use, the models of the machine it runs on.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LLAMA_CACHE", str(tmp_path / "llama-cache"))
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "ollama-models"))
    return home


def _require(path: Path) -> Path:
    if path.exists():
        return path
    message = f"{path} is missing: run `lapbench setup --test-models` first"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def smollm2_gguf() -> Path:
    """The default model, SmolLM2-135M-Instruct Q4_1 (llama architecture)."""
    return _require(SMOLLM2_GGUF)


@pytest.fixture(scope="session")
def gemma_gguf() -> Path:
    """Gemma-3-270M Q4_K_M (gemma3 architecture, sliding-window layers; a base model)."""
    return _require(GEMMA_GGUF)


@pytest.fixture(scope="session")
def smollm2_mlx() -> Path:
    """The default model converted into an MLX folder by scripts/convert_gguf_to_mlx.py."""
    return _require(SMOLLM2_MLX)
