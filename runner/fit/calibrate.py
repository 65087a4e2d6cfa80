"""This machine's own speed, measured once on the default model through lapbench's llama.cpp backend and
stored in the data dir (keyed by machine and llama.cpp version), so that `lapbench fit` predicts a speed on
any OS without knowing the chip. `lapbench fit --calibrate` measures again.

A calibration evaluates a prompt of PROMPT tokens and decodes GENERATE tokens past end-of-text, REPEATS
times after a short warm-up, and keeps the fastest repetition of each (on a shared machine the fastest is the
one least disturbed). Each repetition starts with a different word so that no prompt prefix is reused.
"""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from backends.base import BackendError
from runner import paths
from runner.errors import LapbenchError

if TYPE_CHECKING:
    from runner.fit.arch import ModelArch

PROMPT, GENERATE, REPEATS = 128, 32, 2
TEXT = "The quick brown fox jumps over the lazy dog while the band plays on. "
FILE = "calibration.json"


@dataclass(frozen=True)
class Calibration:
    model: str
    backend: str
    pp_tps: float
    tg_tps: float
    prompt_tokens: int
    generated_tokens: int
    bytes_per_token: float
    """Bytes the calibration model reads per decoded token at the measured depth (runner.fit.speed)."""
    prompt_flops: float
    """FLOPs per prompt token of the calibration model at the measured prompt length."""
    machine: str
    created_at: str
    type_rates: dict[str, float] = field(default_factory=dict)
    """Prompt FLOP/s of each ggml type's matrix kernel on this machine (runner.fit.kernels), measured on
    demand for the types of the models being fit."""

    @property
    def overall_rate(self) -> float:
        """Prompt FLOP/s of the calibration model as a whole."""
        return self.pp_tps * self.prompt_flops


@dataclass(frozen=True)
class Measured:
    pp_tps: float
    tg_tps: float
    prompt_tokens: int
    generated_tokens: int


def backend_version() -> str:
    try:
        return f"llama-cpp-python {metadata.version('llama-cpp-python')}"
    except metadata.PackageNotFoundError:
        return "llama-cpp-python ?"


def machine_key() -> str:
    from runner.profiler.machine import collect_machine_info

    info = collect_machine_info()
    return f"{info.hostname_hash} {info.os} {info.arch} {info.cpu_model or '?'} {info.cpu_cores_logical or '?'}cpu"


def measure_speed(
    model: Path,
    prompt: int = PROMPT,
    generate: int = GENERATE,
    repeats: int = REPEATS,
    n_threads: int | None = None,
) -> Measured:
    """Prompt and decode tok/s of one GGUF through the real llama.cpp backend (fastest of `repeats`)."""
    from backends.base import GenerationRequest, LoadConfig
    from backends.registry import create_backend

    backend = create_backend("llama-cpp")
    backend.load(LoadConfig(model=str(model), n_ctx=prompt + generate + 64, n_threads=n_threads))
    try:
        filler = backend.tokenize(TEXT * (prompt // 8 + 8))
        best_pp = best_tg = 0.0
        used = (0, 0)
        backend.generate(GenerationRequest(prompt=TEXT, max_tokens=4, ignore_eos=True))  # warm-up
        for i in range(repeats):
            text = f"{i} " + backend.detokenize(filler[: prompt - 2])
            stats = backend.generate(
                GenerationRequest(prompt=text, max_tokens=generate, ignore_eos=True)
            ).stats
            best_pp, best_tg = max(best_pp, stats.prompt_tps), max(best_tg, stats.generation_tps)
            used = (stats.prompt_tokens_evaluated, stats.generated_tokens)
    finally:
        backend.close()
    if not best_pp or not best_tg:
        raise LapbenchError(
            f"calibration on {model.name} measured no speed", hint="run `lapbench fit --calibrate`"
        )
    return Measured(round(best_pp, 1), round(best_tg, 2), *used)


def calibrate(model: Path | None = None, n_threads: int | None = None) -> Calibration:
    """Measure this machine on `model` (the default model) and store the result."""
    from runner.fit import kernels
    from runner.fit.memory import RuntimeConfig
    from runner.fit.resolve import local_gguf
    from runner.fit.speed import bytes_per_token, prompt_flops_per_token

    if model is None:
        from runner.setup.pypi_models import default_model_path

        model = default_model_path()
    measured = measure_speed(model, n_threads=n_threads)  # threads as in the run to predict
    arch = local_gguf(model).arch
    cfg = RuntimeConfig(ctx=measured.prompt_tokens + measured.generated_tokens, device=_device())
    cal = Calibration(
        model=model.stem, backend=backend_version(), pp_tps=measured.pp_tps, tg_tps=measured.tg_tps,
        prompt_tokens=measured.prompt_tokens, generated_tokens=measured.generated_tokens,
        bytes_per_token=bytes_per_token(arch, cfg, measured.prompt_tokens + measured.generated_tokens // 2),
        prompt_flops=prompt_flops_per_token(arch, measured.prompt_tokens), machine=machine_key(),
        created_at=datetime.now(UTC).isoformat(timespec="microseconds"),
    )  # fmt: skip
    cal = kernels.base_rates(cal, arch)
    store(cal)
    return cal


def _device() -> Literal["cpu"]:
    return "cpu"  # lapbench's llama.cpp backend loads with n_gpu_layers 0 unless told otherwise


def _path() -> Path:
    return paths.data_dir() / FILE


def _key() -> str:
    return f"{machine_key()} | {backend_version()} | {platform.python_implementation()}"


def _read() -> dict[str, Any]:
    try:
        data = json.loads(_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def store(cal: Calibration) -> None:
    data = _read()
    data[_key()] = asdict(cal)
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    tmp.replace(path)


def stored() -> Calibration | None:
    """The calibration of this machine and backend version, if one was measured."""
    record = _read().get(_key())
    try:
        return Calibration(**record) if isinstance(record, dict) else None
    except TypeError:
        return None  # written by another lapbench version: measure again


def this_machine(refresh: bool = False) -> tuple[Calibration | None, str | None]:
    """(calibration, why there is none). Measures when nothing is stored (a few seconds) or when asked."""
    if not refresh and (cal := stored()) is not None:
        return cal, None
    try:
        return calibrate(), None
    except LapbenchError as err:
        return None, f"no speed calibration: {err.one_line()}"
    except BackendError as err:
        return None, f"no speed calibration: {err}"


def with_kernels(cal: Calibration, arch: ModelArch) -> Calibration:
    """`cal` with the kernel rates of `arch`'s weight types, measuring (and storing) those it lacks: a few
    seconds per type, once per machine. Only a calibration of the default model, whose file is at hand."""
    from runner.fit import kernels
    from runner.setup.pypi_models import default_model_path

    missing = kernels.missing_types(arch, cal)
    model = default_model_path()
    if not missing or model.stem != cal.model or not model.is_file():
        return cal
    cal = kernels.measure_types(cal, missing, model)
    store(cal)
    return cal
