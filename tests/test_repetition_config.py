"""Repetition and thinking settings: their run-config defaults, and how an HTTP server is asked for them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from backends.base import GenerationRequest, RepetitionControl, UnsupportedCapability
from backends.openai.sampling import check_thinking, repetition_fields
from runner.cli import app
from runner.run.config import DEFAULT_DRY, RunConfig
from runner.run.identity import run_inputs


def config(**fields: object) -> RunConfig:
    return RunConfig.model_validate({"model": "m", "model_label": "m", "backend": "llama-cpp", **fields})


def test_dry_is_on_where_lapbench_samples_and_off_for_servers_unless_asked() -> None:
    local = config().repetition()
    assert local is not None and local.dry_multiplier == DEFAULT_DRY
    assert config(backend="openai").repetition() is None
    asked = config(backend="openai", dry=0.5).repetition()
    assert asked is not None and asked.dry_multiplier == 0.5
    assert config(dry=0.0).repetition() is None
    presence = config(dry=0.0, repeat_penalty=1.5, repeat_window=32).repetition()
    assert presence == RepetitionControl(
        presence_penalty=1.5, window=32, dry_multiplier=0.0, dry_breakers=("\n", ":")
    )


def test_the_settings_are_part_of_the_run_identity() -> None:
    base = config().model_dump()
    assert RunConfig.model_validate(base) == config()  # stored and read back unchanged
    for change in ({"dry": 0.0}, {"repeat_penalty": 1.0}, {"think": 64}):
        other = {**base, **change}
        assert run_inputs(other, [])["options_sha256"] != run_inputs(base, [])["options_sha256"]


def test_a_server_gets_the_penalties_in_its_own_terms_or_a_refusal() -> None:
    control = RepetitionControl(presence_penalty=0.5, window=64, dry_multiplier=0.8, dry_breakers=("\n",))
    fields = repetition_fields(control, "llama-server", "http://x")
    assert fields["presence_penalty"] == 0.5 and fields["repeat_last_n"] == 64
    assert fields["dry_multiplier"] == 0.8 and fields["dry_sequence_breakers"] == ["\n"]
    with pytest.raises(UnsupportedCapability, match=r"ollama server has no DRY sampler.*--dry 0"):
        repetition_fields(control, "ollama", "http://x")
    no_dry = RepetitionControl(presence_penalty=0.5)
    assert repetition_fields(no_dry, "openai", "http://x") == {"presence_penalty": 0.5}
    assert repetition_fields(None, "openai", "http://x") == {}
    with pytest.raises(UnsupportedCapability, match="--think"):
        check_thinking(GenerationRequest(prompt="x", think_tokens=8), "http://x")


def record(stdout: str) -> dict[str, Any]:
    """The run record printed by --json (after the progress lines)."""
    parsed: dict[str, Any] = json.loads(stdout[stdout.index("{") :])
    return parsed


def test_the_cli_options_are_stored_with_the_run(tmp_path: Path) -> None:
    results = tmp_path / "results.sqlite"
    args = ["run", "--backend", "oracle", "--suite", "todo", "--results", str(results), "--json"]
    done = CliRunner().invoke(app, [*args, "--dry", "0.5", "--repeat-penalty", "0.25", "--think", "64"])
    assert done.exit_code == 0, done.output
    config = record(done.stdout)["config"]
    assert (config["dry"], config["repeat_penalty"], config["think"]) == (0.5, 0.25, 64)
    default = CliRunner().invoke(app, args)
    assert record(default.stdout)["config"]["dry"] == 0.0  # the oracle samples nothing
