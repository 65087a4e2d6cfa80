"""The suite-time prediction: stored gold-run token counts and a model's speeds give the run's wall time."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from runner.errors import ConfigError
from runner.fit import suite_time
from runner.fit.suite_time import (
    CALL_SECONDS,
    GoldTokens,
    predict_suite_time,
    read_tokens,
    suite_gold_tokens,
    write_tokens,
)


def counts(project: str, calls: int = 4, evaluated: int = 1000, generated: int = 300) -> GoldTokens:
    return GoldTokens(
        projects=(project,), model="SmolLM2-135M-Instruct.Q4_1", calls=calls, prompt_tokens=4 * evaluated,
        evaluated_tokens=evaluated, generated_tokens=generated, forced_tokens=generated,
        schema_forced_tokens=100, evaluated_depth=1500.0, generated_depth=2100.0,
    )  # fmt: skip


def fixed(prompt_tps: float, decode_tps: float) -> suite_time.SpeedAt:
    return lambda prompt_depth, decode_depth: (prompt_tps, decode_tps)


def test_a_prediction_from_stored_token_counts(tmp_path: Path) -> None:
    (tmp_path / "gold" / "todo").mkdir(parents=True)
    write_tokens(counts("todo"), tmp_path / "gold")
    stored = suite_gold_tokens("smoke", tmp_path / "gold")
    assert stored == counts("todo")
    grammar = predict_suite_time(stored, fixed(100.0, 10.0), "grammar")
    assert grammar is not None
    # 1000 evaluated / 100 + (300 - 100 forced - 4 first tokens) / 10 + 100 forced / 100 + 4 calls
    assert grammar.seconds == pytest.approx(10 + 19.6 + 1 + 4 * CALL_SECONDS)
    gold = predict_suite_time(stored, fixed(100.0, 10.0), "gold")
    free = predict_suite_time(stored, fixed(100.0, 10.0), "free")
    assert gold is not None and free is not None
    assert gold.seconds == pytest.approx(10 + 4 * CALL_SECONDS)  # the gold answer is forced, never evaluated
    assert free.seconds == pytest.approx(10 + 29.6 + 4 * CALL_SECONDS)
    assert predict_suite_time(stored, fixed(100.0, 0.0)) is None  # an unknown speed predicts nothing


def test_speeds_are_asked_at_the_depth_of_the_tokens() -> None:
    asked: list[tuple[float, float]] = []

    def speed(prompt_depth: float, decode_depth: float) -> tuple[float, float]:
        asked.append((prompt_depth, decode_depth))
        return 1000.0 / (1 + prompt_depth / 1000), 10.0

    shallow = predict_suite_time(counts("a"), speed)
    deep = predict_suite_time(replace(counts("a"), evaluated_depth=6000.0), speed)
    assert shallow is not None and deep is not None
    assert asked[0] == (1500.0, 2100.0) and deep.prompt_seconds > shallow.prompt_seconds


def test_projects_add_up_weighting_depths_by_tokens() -> None:
    total = GoldTokens.total([counts("a", evaluated=1000), counts("b", evaluated=3000, calls=6)])
    assert total.projects == ("a", "b") and total.calls == 10 and total.evaluated_tokens == 4000
    assert total.evaluated_depth == pytest.approx(1500.0)
    with pytest.raises(ConfigError):
        GoldTokens.total([])


def test_missing_or_broken_counts_name_the_project_and_the_fix(tmp_path: Path) -> None:
    (tmp_path / "todo").mkdir()
    with pytest.raises(ConfigError, match="todo") as missing:
        suite_gold_tokens("smoke", tmp_path)
    assert "bench_run.py --write-tokens" in missing.value.one_line()
    (tmp_path / "todo" / "tokens.json").write_text(json.dumps({"calls": 3}), encoding="utf-8")
    with pytest.raises(ConfigError, match="expected"):
        read_tokens("todo", tmp_path)
    with pytest.raises(ConfigError, match="per project"):
        write_tokens(GoldTokens.total([counts("a"), counts("b")]), tmp_path)


def test_the_gold_folder_is_the_gold_loaders() -> None:
    from runner.gold import GOLD_DIR

    assert suite_time.GOLD_DIR == GOLD_DIR


@pytest.mark.model
def test_fit_predicts_the_standard_suite_from_the_stored_gold_counts(smollm2_gguf: Path) -> None:
    from typer.testing import CliRunner

    from runner.cli import app

    stored = suite_gold_tokens("standard")  # the counts scripts/bench_run.py --write-tokens stored
    assert len(stored.projects) >= 6 and stored.calls > 0 and stored.evaluated_tokens > 0
    result = CliRunner().invoke(
        app, ["fit", str(smollm2_gguf), "--suite", "standard", "--bandwidth", "100", "--json"]
    )
    assert result.exit_code == 0, result.output
    timed = json.loads(result.output)["suite_time"]
    assert timed["tokens"]["calls"] == stored.calls and timed["decoding"] == "grammar"
    assert timed["seconds"] == pytest.approx(
        timed["prompt_seconds"] + timed["sampled_seconds"] + timed["forced_seconds"] + timed["call_seconds"],
        abs=0.2,
    )
    text = CliRunner().invoke(app, ["fit", str(smollm2_gguf), "--suite", "standard", "--bandwidth", "50"])
    assert text.exit_code == 0 and "suite standard ≈" in text.output
