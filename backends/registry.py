"""Backends by name, imported only when chosen.

The runner never imports a backend module directly: `create_backend("mlx")` imports `backends.mlx.backend`
at that moment, so `lapbench --help` stays fast and a machine without mlx can still run llama.cpp. A backend
whose package is missing raises `BackendUnavailable` with a one-line install hint instead of an ImportError.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from backends.base import Backend, BackendError, BackendUnavailable
from backends.mlx import is_mlx_folder

BACKENDS: dict[str, str] = {
    "llama-cpp": "backends.llama_cpp.backend:LlamaCppBackend",
    "mlx": "backends.mlx.backend:MlxBackend",
    "openai": "backends.openai.backend:OpenAIHttpBackend",
    "fake": "backends.fake:FakeBackend",
}
"""name -> "module:Class"; the class is instantiated without arguments."""

# Top-level import name of a missing package -> the command that installs it.
INSTALL_HINTS: dict[str, str] = {
    "llama_cpp": "pip install -e .  (or: pip install llama-cpp-python)",
    "mlx": 'pip install -e ".[mlx]"',
    "mlx_lm": 'pip install -e ".[mlx]"',
    "tokenizers": 'pip install -e ".[mlx]"',
    "llguidance": "pip install llguidance",
    "httpx": "pip install httpx",
}

_URL = re.compile(r"^https?://", re.IGNORECASE)


class UnknownBackend(BackendError):
    """The name is not in the registry; the message lists the known names."""


def register_backend(name: str, target: str) -> None:
    """Add a backend defined outside this package ("module:Class"), e.g. one that serves known answers."""
    BACKENDS[name] = target


def backend_names() -> list[str]:
    return sorted(BACKENDS)


def create_backend(name: str) -> Backend:
    """A fresh, unloaded backend by registry name (call `.load(LoadConfig(...))` next)."""
    target = BACKENDS.get(name)
    if target is None:
        raise UnknownBackend(f"unknown backend {name!r}; known backends: {', '.join(backend_names())}")
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        missing = (err.name or "").split(".")[0]
        if missing == "backends" or not missing:
            raise
        hint = INSTALL_HINTS.get(missing, f"pip install {missing}")
        raise BackendUnavailable(
            f"backend {name!r} needs the Python package {missing!r}, which is not installed: {hint}"
        ) from err
    backend: Backend = getattr(module, class_name)()
    return backend


def pick_backend_for(model: str | Path) -> str:
    """The backend that can serve `model`: an http(s) URL -> "openai", a .gguf file -> "llama-cpp",
    a folder with config.json and *.safetensors -> "mlx". Anything else raises BackendError naming it."""
    text = str(model)
    if _URL.match(text):
        return "openai"
    path = Path(text).expanduser()
    if path.is_dir():
        if is_mlx_folder(path):
            return "mlx"
        raise BackendError(
            f"{path} is a folder but not an MLX model (expected config.json and *.safetensors inside)"
        )
    if path.suffix.lower() == ".gguf":
        return "llama-cpp"
    if not path.exists():
        raise BackendError(f"{path} does not exist (expected a .gguf file, an MLX folder or an http(s) URL)")
    raise BackendError(f"cannot tell which backend serves {path}: expected a .gguf file or an MLX folder")
