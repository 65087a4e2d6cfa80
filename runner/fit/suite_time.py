"""The wall time of a benchmark suite on a model, predicted from the token counts of a gold run.

A gold-forced run (`lapbench run MODEL --backend oracle`, the gold answer of every call forced through the
default model) makes exactly the calls a perfect model makes; `scripts/bench_run.py --write-tokens` stores
its counts per project in `runner/projects/gold/<id>/tokens.json`: calls, prompt tokens (total and evaluated
after prefix reuse), generated tokens, of those the ones a grammar appends by jump-forward (`forced`: all of
them under the oracle's gold grammar; `schema_forced`: those the tool's own grammar forces, what a perfect
model decoding under the tool grammar gets), and the mean context depth of the evaluated and generated tokens.

Time = evaluated prompt tokens / prompt speed (at their depth) + sampled tokens / decode speed (at their
depth) + forced tokens / prompt speed (jump-forward evaluates them in batches, as a prompt; a gold answer,
forced whole, is never evaluated) + a fixed cost per call (template, tokenizer, grammar, validation: measured on the default model, which makes it an upper
bound for bigger ones). The counts are in the default model's tokens; other tokenizers differ by ~10-20%.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from runner.errors import ConfigError
from runner.fit.speed import from_calibration

if TYPE_CHECKING:
    from runner.fit.arch import ModelArch
    from runner.fit.calibrate import Calibration
    from runner.fit.memory import RuntimeConfig
    from runner.fit.speed import Speed
    from runner.fit.verdict import FitReport

GOLD_DIR = Path(__file__).resolve().parents[1] / "projects" / "gold"  # runner.gold.GOLD_DIR, without pydantic
TOKENS_FILE = "tokens.json"
CALL_SECONDS = 0.5
"""Work per call outside the model (prompt rendering, tokenizing, grammar compile, validation, storing,
saving the KV state): 0.5 s on the default model's gold-forced calls of the todo project with
scripts/bench_run.py on a busy 2-core machine; small next to a big model's seconds per call."""
Decoding = Literal["gold", "grammar", "free"]
"""What the predicted run forces: everything (the gold-forced run), what the tool grammar forces
(`lapbench run` in grammar mode), or nothing (`--mode free`)."""


@dataclass(frozen=True)
class GoldTokens:
    """The token counts of one gold-forced run (one project, or a suite when summed)."""

    projects: tuple[str, ...]
    model: str
    """The model whose tokenizer counted (the default model)."""
    calls: int
    prompt_tokens: int
    evaluated_tokens: int
    generated_tokens: int
    forced_tokens: int
    schema_forced_tokens: int
    evaluated_depth: float
    """Mean number of tokens before an evaluated prompt token (its attention span)."""
    generated_depth: float

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "projects": list(self.projects)}

    @classmethod
    def from_json(cls, data: dict[str, Any], where: str) -> GoldTokens:
        names = {f.name for f in fields(cls)}
        if set(data) != names:
            raise ConfigError(
                f"{where}: token counts with keys {sorted(data)}, expected {sorted(names)}",
                hint="write it again with `python scripts/bench_run.py --write-tokens`",
            )
        return cls(**{**data, "projects": tuple(data["projects"])})

    @classmethod
    def total(cls, parts: Iterable[GoldTokens]) -> GoldTokens:
        items = list(parts)
        if not items:
            raise ConfigError("no token counts to add up")
        evaluated = sum(p.evaluated_tokens for p in items) or 1
        generated = sum(p.generated_tokens for p in items) or 1
        return cls(
            projects=tuple(name for p in items for name in p.projects),
            model=items[0].model,
            calls=sum(p.calls for p in items),
            prompt_tokens=sum(p.prompt_tokens for p in items),
            evaluated_tokens=sum(p.evaluated_tokens for p in items),
            generated_tokens=sum(p.generated_tokens for p in items),
            forced_tokens=sum(p.forced_tokens for p in items),
            schema_forced_tokens=sum(p.schema_forced_tokens for p in items),
            evaluated_depth=sum(p.evaluated_depth * p.evaluated_tokens for p in items) / evaluated,
            generated_depth=sum(p.generated_depth * p.generated_tokens for p in items) / generated,
        )


def tokens_path(project_id: str, directory: Path = GOLD_DIR) -> Path:
    return directory / project_id / TOKENS_FILE


def read_tokens(project_id: str, directory: Path = GOLD_DIR) -> GoldTokens | None:
    """The stored counts of a project's gold-forced run, or None when none was stored."""
    path = tokens_path(project_id, directory)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        raise ConfigError(
            f"{path}: unreadable token counts: {err}", hint="run scripts/bench_run.py"
        ) from None
    return GoldTokens.from_json(data, str(path))


def write_tokens(tokens: GoldTokens, directory: Path = GOLD_DIR) -> Path:
    if len(tokens.projects) != 1:
        raise ConfigError("token counts are stored per project", hint="write each project's counts")
    path = tokens_path(tokens.projects[0], directory)
    path.write_text(json.dumps(tokens.as_json(), indent=2) + "\n", encoding="utf-8")
    return path


def suite_gold_tokens(suite: str, directory: Path = GOLD_DIR) -> GoldTokens:
    """The summed counts of a suite's projects; ConfigError naming the projects without stored counts."""
    from runner.projects import suite_projects

    ids = [p.id for p in suite_projects(suite)]
    found = {pid: read_tokens(pid, directory) for pid in ids}
    missing = [pid for pid, tokens in found.items() if tokens is None]
    if missing:
        raise ConfigError(
            f"no gold-run token counts for {', '.join(missing)}",
            hint="run `python scripts/bench_run.py --write-tokens` once to store them",
        )
    return GoldTokens.total(t for t in found.values() if t is not None)


@dataclass(frozen=True)
class SuiteTime:
    seconds: float
    prompt_seconds: float
    sampled_seconds: float
    forced_seconds: float
    call_seconds: float
    prompt_tps: float
    decode_tps: float
    decoding: Decoding
    tokens: GoldTokens

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "tokens": self.tokens.as_json()}


SpeedAt = Callable[[float, float], tuple[float | None, float | None]]
"""(prompt depth, decode depth) -> (prompt tok/s, decode tok/s) of the model on the machine."""


def predict_suite_time(
    tokens: GoldTokens, speed_at: SpeedAt, decoding: Decoding = "grammar", call_seconds: float = CALL_SECONDS
) -> SuiteTime | None:
    """The predicted wall time of the run these counts describe; None when a speed is unknown."""
    prompt_tps, _ = speed_at(tokens.evaluated_depth, tokens.generated_depth)
    forced_tps, decode_tps = speed_at(tokens.generated_depth, tokens.generated_depth)
    if not prompt_tps or not forced_tps or not decode_tps:
        return None
    forced = {"gold": tokens.forced_tokens, "grammar": tokens.schema_forced_tokens, "free": 0}[decoding]
    forced = min(forced, tokens.generated_tokens)
    # a call's first generated token comes from the prompt's logits; the others cost one decode step each
    sampled = max(tokens.generated_tokens - forced - tokens.calls, 0)
    prompt_s = tokens.evaluated_tokens / prompt_tps
    sampled_s = sampled / decode_tps
    # a gold answer is forced whole and never evaluated (nothing is sampled after it)
    forced_s = 0.0 if decoding == "gold" else forced / forced_tps
    calls_s = tokens.calls * call_seconds
    return SuiteTime(
        seconds=round(prompt_s + sampled_s + forced_s + calls_s, 1),
        prompt_seconds=round(prompt_s, 2),
        sampled_seconds=round(sampled_s, 2),
        forced_seconds=round(forced_s, 2),
        call_seconds=round(calls_s, 2),
        prompt_tps=round(prompt_tps, 1),
        decode_tps=round(decode_tps, 2),
        decoding=decoding,
        tokens=tokens,
    )


def speed_for(arch: ModelArch, cfg: RuntimeConfig, cal: Calibration | None, speed: Speed | None) -> SpeedAt:
    """Speeds at a depth: this machine's calibration scaled to the model (runner.fit.speed), else one fixed
    speed (a chip's bandwidth, which has no depth)."""

    def at(prompt_depth: float, decode_depth: float) -> tuple[float | None, float | None]:
        if cal is not None:
            scaled = from_calibration(
                arch, cfg, cal, depth=max(round(decode_depth), 1), prompt=max(round(2 * prompt_depth), 1)
            )
            return scaled.prompt_tps, scaled.decode_tps
        return (speed.prompt_tps, speed.decode_tps) if speed is not None else (None, None)

    return at


def for_report(report: FitReport, suite: str, *, calibrated: bool) -> SuiteTime | None:
    """`lapbench fit MODEL --suite`: the suite's gold counts at the report's speeds; with `calibrated`, this
    machine's calibration scaled to the depths of the suite's tokens (one fixed speed otherwise)."""
    from runner.fit.calibrate import stored
    from runner.fit.speed import Speed

    tokens = suite_gold_tokens(suite)
    speed = Speed(report.predicted_tps, report.predicted_pp_tps, report.speed_source or "")
    return predict_suite_time(
        tokens, speed_for(report.arch, report.runtime, stored() if calibrated else None, speed)
    )


def describe(suite: str, timed: SuiteTime | None) -> str:
    if timed is None:
        return f"suite {suite}: no speed to predict its time from (give --chip or --bandwidth)"
    t = timed.tokens
    return (
        f"suite {suite} ≈ {timed.seconds / 60:.0f} min: {t.calls} calls, {t.evaluated_tokens} prompt tokens "
        f"evaluated at {timed.prompt_tps:g} tok/s, {t.generated_tokens} generated ({t.schema_forced_tokens} "
        f"forced) at {timed.decode_tps:g} tok/s (token counts of the gold run, {t.model} tokens)"
    )
