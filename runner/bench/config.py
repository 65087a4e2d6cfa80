"""The validated settings of one benchmark run (stored with the run, so `--resume` needs nothing else)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from runner.errors import ConfigError, ModelFileError


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(description="GGUF path, MLX folder, or a model name/URL for the HTTP backend")
    model_label: str = Field(description="short name shown in tables")
    backend: str
    suite: str = "smoke"
    mode: Literal["grammar", "free"] = "grammar"
    engine: str = "llguidance"
    repeats: int = Field(1, ge=1, le=100)
    retries: int = Field(3, ge=0, le=10)
    seed: int = 0
    temperature: float = Field(0.3, ge=0.0, le=2.0)
    n_ctx: int = Field(8192, ge=512)
    n_threads: int | None = Field(None, ge=1)
    max_tokens: int | None = Field(None, ge=16, description="cap on every call's output tokens")
    force: bool = False
    backend_options: dict[str, Any] = Field(default_factory=dict, description="passed to LoadConfig.options")


def repeat_seed(seed: int, repeat: int) -> int:
    """The seed of repeat `repeat` (attempt n of a call adds n, so retries sample differently too)."""
    return seed + 1000 * repeat


def resolve_model(model: str | None, backend: str | None = None) -> tuple[str, str]:
    """(model path or URL, label). None is the bundled default model; a catalog id is looked up locally;
    the HTTP and fake backends take the name as it is (the server or script knows it)."""
    from runner.setup_models import default_model_path

    if model is not None and backend in ("openai", "fake"):
        return model, model
    if model is None:
        path = default_model_path()
        return str(path), path.stem
    if model.startswith(("http://", "https://")):
        return model, model
    path = Path(model).expanduser()
    if path.exists():
        return str(path.resolve()), path.stem if path.is_file() else path.name
    return _from_catalog(model)


def _from_catalog(model: str) -> tuple[str, str]:
    from runner.catalog import load_catalog
    from runner.local_models import find_local, search_dirs

    model_id, _, quant_name = model.partition(":")
    entry = load_catalog().get(model_id)
    if entry is None:
        raise ConfigError(
            f"{model!r} is neither a model file, an MLX folder, a URL, nor a catalog id",
            hint="give a path, or see `lapbench models` for catalog ids",
        )
    quants = [q for q in entry.quant if not quant_name or q.name.lower() == quant_name.lower()]
    for quant in quants:
        local = find_local(quant, search_dirs())
        if local is not None:
            return str(local), f"{entry.id}:{quant.name}"
    raise ModelFileError(
        f"no local file of {model!r} was found in {', '.join(str(d) for d in search_dirs())}",
        hint=f"run `lapbench pull {model}` or give the file path",
    )
