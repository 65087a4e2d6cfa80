"""The validated settings of one benchmark run (stored with the run, so `--resume` needs nothing else)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


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
    parallel: int = Field(1, ge=1, le=64, description="calls in flight at once (HTTP backends)")
    price_in: float | None = Field(None, ge=0, description="dollars per million prompt tokens")
    price_out: float | None = Field(None, ge=0, description="dollars per million generated tokens")


def repeat_seed(seed: int, repeat: int) -> int:
    """The seed of repeat `repeat` (attempt n of a call adds n, so retries sample differently too)."""
    return seed + 1000 * repeat


def model_for_run(model: str | None, backend: str | None = None) -> tuple[str, str, str]:
    """(model path or URL, label, backend) from the model resolver (runner.models.resolve); the HTTP and fake
    backends take the name as it is (the server or the script knows it). The oracle without a model answers
    from the gold answers alone; with a model it forces them through that model (see `oracle_options`)."""
    if model is not None and backend in ("openai", "fake"):
        return model, model, backend
    if model is None and backend == "oracle":
        return "gold", "oracle", "oracle"
    from runner.models.resolve import locate

    found = locate(model)
    if backend == "oracle":
        return found.target, f"{found.label} (gold-forced)", "oracle"
    return found.target, found.label, backend or found.backend


def oracle_options(model: str | None, backend: str | None, options: dict[str, Any]) -> dict[str, Any]:
    """The oracle given a model forces the gold through that model's own backend (`through`)."""
    if backend != "oracle" or model is None or "through" in options:
        return options
    from runner.models.resolve import locate

    return {**options, "through": locate(model).backend}
