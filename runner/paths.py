"""Where lapbench keeps its data. Every location can be overridden by an environment variable,
which is how the tests keep everything inside a temporary directory."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

REPO_ROOT = Path(__file__).resolve().parent.parent


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else None


def data_dir() -> Path:
    """User data directory: $LAPBENCH_HOME, else the platform convention (XDG on Linux)."""
    return _env_path("LAPBENCH_HOME") or Path(platformdirs.user_data_dir("lapbench", appauthor=False))


def models_dir() -> Path:
    """Model files fetched by `lapbench setup` / `lapbench pull`: $LAPBENCH_MODELS_DIR, else <data>/models."""
    return _env_path("LAPBENCH_MODELS_DIR") or data_dir() / "models"


def results_db() -> Path:
    """The SQLite results store: $LAPBENCH_RESULTS, else <data>/results.sqlite."""
    return _env_path("LAPBENCH_RESULTS") or data_dir() / "results.sqlite"


def catalog_path() -> Path:
    """models.toml: $LAPBENCH_CATALOG, else the one at the repository root."""
    return _env_path("LAPBENCH_CATALOG") or REPO_ROOT / "models.toml"
