"""The oracle backend: gold answers through the real pipeline (every phase ok, no retry), and degraded
answers repaired from the harness's feedback."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from backends.base import GenerationRequest, LoadConfig, Message
from backends.registry import create_backend
from runner.gold import load_gold
from runner.oracle.answers import answer, defined_components, task_of, tool_of
from runner.oracle.degrade import Defect, choose_defect, render, stable_seed
from runner.projects import builtin_projects
from runner.run.config import RunConfig
from runner.run.run import benchmark


def _oracle_run(tmp_path: Path, project_ids: list[str], **options: float) -> object:
    config = RunConfig(
        model="gold", model_label="oracle", backend="oracle", suite="full", backend_options=dict(options)
    )
    projects = [builtin_projects()[p] for p in project_ids]
    return benchmark(config, projects, tmp_path / "results.sqlite")


def test_a_perfect_oracle_passes_every_phase_on_the_first_try(tmp_path: Path) -> None:
    record = _oracle_run(tmp_path, ["todo", "discussion_board"])
    for result in record.results:  # type: ignore[attr-defined]
        assert {name: p.status for name, p in result.phases.items()} == dict.fromkeys(
            ("analyze", "database", "interface", "test", "realize"), "ok"
        )
        assert sum(p.retries for p in result.phases.values()) == 0
        assert all(p.parts == p.parts_valid for p in result.phases.values())


def test_the_pipeline_assembles_exactly_the_gold_documents(tmp_path: Path) -> None:
    from runner.run.store import ResultsStore

    record = _oracle_run(tmp_path, ["todo"])
    gold = load_gold("todo")
    with ResultsStore(tmp_path / "results.sqlite") as store:
        rows = {r["phase"]: r["document_json"] for r in store.phase_rows(record.run_id)}  # type: ignore[attr-defined]
    for phase in ("analyze", "database", "interface", "test", "realize"):
        expected = getattr(gold, phase)
        assert type(expected).model_validate_json(rows[phase]) == expected, phase


def test_degraded_answers_are_repaired_from_the_feedback(tmp_path: Path) -> None:
    record = _oracle_run(tmp_path, ["todo"], degrade_rate=0.6, seed=3)
    (result,) = record.results  # type: ignore[attr-defined]
    assert sum(p.retries for p in result.phases.values()) > 0
    assert {p.status for p in result.phases.values()} <= {"ok", "partial"}
    assert all(p.parts == p.parts_valid for p in result.phases.values())


def test_the_oracle_reads_tool_task_and_defined_components_from_the_prompt() -> None:
    prompt = (
        "Tool `write_interface_operation`. Its arguments...\n\nComponents already defined (reuse them by "
        "name):\nITodoList {id: string}\nIAuthorized {token: string}\n\nTask: Write the operation "
        "`put /todo-lists/{todoListId}`: rename a list.\n\nYour previous call of this tool failed: "
        "operation `get /x`"
    )
    assert tool_of(prompt, None) == "interface.operation"
    assert "`get /x`" not in task_of(prompt)
    assert defined_components(prompt) == {"ITodoList", "IAuthorized"}
    part = answer(load_gold("todo"), "interface.operation", prompt)
    assert part["operation"]["method"] == "put"
    assert "ITodoList" not in {c["name"] for c in part["components"]}


def test_every_defect_is_caught_or_named_and_repairs_restore_the_answer() -> None:
    value = load_gold("todo").data["database"]["files"][0]["tables"][1]
    kinds = set()
    for seed in range(40):
        defect = choose_defect(value, random.Random(seed))
        kinds.add(defect.kind)
        spoilt = render(value, [defect])
        assert spoilt != render(value, [])
        if defect.kind in ("break_reference", "drop_field"):
            assert defect.tell and defect.named_by(f"... {defect.tell} ...")
        else:
            assert defect.named_by("could not read JSON from your answer")
    assert kinds == {"drop_field", "break_reference", "garbage", "cut_off"}
    assert stable_seed(1, "a") == stable_seed(1, "a") != stable_seed(2, "a")
    assert not Defect("garbage").named_by("a type error")


def test_bad_options_are_one_line_errors() -> None:
    from backends.base import BackendError

    backend = create_backend("oracle")
    with pytest.raises(BackendError, match="degrade_rate"):
        backend.load(LoadConfig(model="gold", options={"degrade_rate": 2}))
    with pytest.raises(BackendError, match="unknown options"):
        backend.load(LoadConfig(model="gold", options={"colour": "red"}))
    backend.load(LoadConfig(model="gold"))
    unknown = backend.generate(GenerationRequest(messages=(Message("user", "Project: nothing known"),)))
    assert unknown.text == "{}"


@pytest.mark.model
@pytest.mark.slow
def test_gold_forced_through_llama_cpp_passes_every_gate(smollm2_gguf: Path, tmp_path: Path) -> None:
    """The smoke suite's gold answers forced through the real default model: every gate passes on the first
    try, every generated token is forced, and the figures are the real backend's."""
    from typer.testing import CliRunner

    from runner.cli import app

    out = CliRunner().invoke(
        app,
        ["run", str(smollm2_gguf), "--backend", "oracle", "--suite", "smoke", "--threads", "2", "--json",
         "--results", str(tmp_path / "results.sqlite")],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    record = json.loads(out.stdout[out.stdout.index("{") :])
    assert record["config"]["backend_options"] == {"through": "llama-cpp"}
    assert record["config"]["model_label"].endswith("(gold-forced)")
    (result,) = record["results"]
    assert {p["status"] for p in result["phases"].values()} == {"ok"}
    assert sum(p["retries"] for p in result["phases"].values()) == 0
    profile = record["profile"]
    assert profile["generated_tokens"] > 1000
    assert profile["forced_tokens"] == profile["generated_tokens"]
    assert 0 < profile["prompt_tokens_evaluated"] < profile["prompt_tokens"]
