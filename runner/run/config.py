"""The validated settings of one benchmark run (stored with the run, so `--resume` needs nothing else)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from backends.base import RepetitionControl

SAMPLING_BACKENDS = ("llama-cpp", "mlx")
"""Backends whose decode loop lapbench runs itself: DRY is on by default there (a server has its own)."""
DEFAULT_DRY = 0.8
DEFAULT_CTX = 8192
"""The context of a run config that names none, and what the budgets assume of an HTTP server's (the CLI
picks the model's own: `run_context`)."""
DRY_BREAKERS = ("\n", ":")
"""A JSON key's colon ends every repeat, so the first token of a value is never penalised (a column's type
or nullability may rightly repeat) while the rest of a repeated value is, and so is the `,` that would
start one more copy of a list item whose values repeat (SmolLM2 writing the same foreign key four times
then closes the list). llama.cpp's defaults add '"' and '*', which would hide repeats inside string lists."""


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(description="GGUF path, MLX folder, or a model name/URL for the HTTP backend")
    model_label: str = Field(description="short name shown in tables")
    backend: str
    suite: str = "smoke"
    track: Literal["full", "realize", "test"] = Field(
        "full", description="what the model writes (runner.run.tracks): every phase, the logic, or the tests"
    )
    mode: Literal["grammar", "free"] = "grammar"
    engine: str = "llguidance"
    grammar: Literal["narrowed", "schema"] = Field(
        "narrowed",
        description="grammar mode: each call's schema narrowed by what the run knows (runner.run.narrow), "
        "or the plain schema",
    )
    repeats: int = Field(1, ge=1, le=100)
    retries: int = Field(3, ge=0, le=10)
    seed: int = 0
    temperature: float = Field(0.3, ge=0.0, le=2.0)
    n_ctx: int = Field(DEFAULT_CTX, ge=512)
    n_threads: int | None = Field(None, ge=1)
    max_tokens: int | None = Field(None, ge=16, description="cap on every call's output tokens")
    force: bool = False
    backend_options: dict[str, Any] = Field(default_factory=dict, description="passed to LoadConfig.options")
    parallel: int = Field(1, ge=1, le=64, description="calls in flight at once (HTTP backends)")
    price_in: float | None = Field(None, ge=0, description="dollars per million prompt tokens")
    price_out: float | None = Field(None, ge=0, description="dollars per million generated tokens")
    repeat_penalty: float = Field(
        0.0, ge=0.0, le=10.0, description="presence penalty on tokens of the last repeat_window (0 = off)"
    )
    repeat_window: int = Field(256, ge=1, le=8192, description="generated tokens the penalties look back on")
    dry: float = Field(
        DEFAULT_DRY,
        ge=0.0,
        le=10.0,
        description="DRY multiplier on repeated spans (0 = off; default 0 for HTTP and scripted backends)",
    )
    dry_base: float = Field(1.75, ge=1.0, le=4.0, description="DRY penalty growth per repeated token")
    dry_allowed_length: int = Field(2, ge=1, le=64, description="repeats this long go unpenalised")
    think: int = Field(0, ge=0, le=32768, description="free reasoning tokens before each constrained call")

    @model_validator(mode="before")
    @classmethod
    def _dry_default_by_backend(cls, data: Any) -> Any:
        if isinstance(data, dict) and "dry" not in data and data.get("backend") not in SAMPLING_BACKENDS:
            return {**data, "dry": 0.0}
        return data

    def repetition(self) -> RepetitionControl | None:
        """The penalties every call of this run asks for (None when all are off)."""
        control = RepetitionControl(
            presence_penalty=self.repeat_penalty,
            window=self.repeat_window,
            dry_multiplier=self.dry,
            dry_base=self.dry_base,
            dry_allowed_length=self.dry_allowed_length,
            dry_breakers=DRY_BREAKERS,
        )
        return control if control.active else None


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


def run_context(model: str, backend: str) -> int:
    """The context `lapbench run` loads with when `--ctx` is not given: lapbench's runtime rule (the model's
    trained context, at most `LAPBENCH_CTX_CAP`). The oracle takes the cap, since forced gold does not depend
    on positions the model never saw; an HTTP server keeps its own context, so the budgets assume 8,192."""
    from runner.fit.resolve import trained_context
    from runner.fit.runtimes import LAPBENCH_CTX_CAP, train_capped

    if backend == "oracle":
        return LAPBENCH_CTX_CAP
    if backend in ("openai", "fake"):
        return DEFAULT_CTX
    return train_capped(trained_context(model), LAPBENCH_CTX_CAP)


def oracle_options(model: str | None, backend: str | None, options: dict[str, Any]) -> dict[str, Any]:
    """The oracle given a model forces the gold through that model's own backend (`through`)."""
    if backend != "oracle" or model is None or "through" in options:
        return options
    from runner.models.resolve import locate

    return {**options, "through": locate(model).backend}
