"""The lazy backend registry: names, install hints for missing packages, and picking a backend for a model."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from backends import registry
from backends.base import Backend, BackendError, BackendUnavailable
from backends.fake import FakeBackend
from backends.registry import UnknownBackend, create_backend, pick_backend_for


def test_every_registered_backend_is_importable_here() -> None:
    for name in registry.backend_names():
        backend = create_backend(name)
        assert isinstance(backend, Backend)
        assert backend.name == name


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(UnknownBackend) as err:
        create_backend("vllm-direct")
    for name in ("llama-cpp", "mlx", "openai", "fake"):
        assert name in str(err.value)


def test_missing_package_becomes_a_one_line_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real module whose import fails the way a backend's would without its package installed.
    (tmp_path / "lapbench_needs_mlx.py").write_text("import mlx_lm_not_installed_here\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(registry.BACKENDS, "needs-mlx", "lapbench_needs_mlx:Backend")
    monkeypatch.setitem(registry.INSTALL_HINTS, "mlx_lm_not_installed_here", 'pip install -e ".[mlx]"')
    with pytest.raises(BackendUnavailable) as err:
        create_backend("needs-mlx")
    message = str(err.value)
    assert "\n" not in message
    assert 'pip install -e ".[mlx]"' in message
    assert "needs-mlx" in message
    sys.modules.pop("lapbench_needs_mlx", None)


def test_created_backends_are_fresh_instances() -> None:
    first, second = create_backend("fake"), create_backend("fake")
    assert isinstance(first, FakeBackend)
    assert first is not second


def test_pick_backend_by_model_kind(tmp_path: Path) -> None:
    gguf = tmp_path / "model.Q4_0.gguf"
    gguf.write_bytes(b"GGUF")
    folder = tmp_path / "mlx-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"")
    assert pick_backend_for(gguf) == "llama-cpp"
    assert pick_backend_for(str(folder)) == "mlx"
    assert pick_backend_for("http://127.0.0.1:8080/v1") == "openai"
    assert pick_backend_for("HTTPS://api.example.com") == "openai"


def test_pick_backend_names_what_it_cannot_serve(tmp_path: Path) -> None:
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    with pytest.raises(BackendError, match="not-a-model"):
        pick_backend_for(empty)
    text = tmp_path / "notes.txt"
    text.write_text("hi")
    with pytest.raises(BackendError, match=r"notes\.txt"):
        pick_backend_for(text)
    with pytest.raises(BackendError, match="missing-file"):
        pick_backend_for(tmp_path / "missing-file")
