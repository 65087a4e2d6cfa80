"""Inputs that used to end in a traceback, or ran when they should not: each is one line naming the fix
(issue 18). Also: a call whose prompt is larger than the context is a named failure, never sent, that earns
nothing; and the catalog's numbers are validated strictly by type and range."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backends.fake import FakeBackend
from runner.cli import app
from runner.errors import ConfigError
from runner.models.catalog import load_catalog
from runner.projects import Project
from runner.run.config import RunConfig
from runner.run.harness import CONTEXT_OVERFLOW
from runner.run.progress import score_tables
from runner.run.run import execute_run, start_run
from runner.run.store import ResultsStore
from tests.support.cli_errors import failed_one_line
from tests.support.processes import one_line_error, run

cli = CliRunner()


def test_backend_options_from_a_missing_file_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    done = cli.invoke(app, ["run", "--backend", "oracle", "--backend-options", f"@{missing}"])
    line = failed_one_line(done)
    assert done.exit_code == 2 and str(missing) in line and "No such file" in line


@pytest.mark.parametrize("kind", ["directory", "text", "empty"])
def test_a_model_path_that_is_not_a_model_is_one_line(tmp_path: Path, kind: str) -> None:
    model = tmp_path / "x.gguf"
    if kind == "directory":
        model.mkdir()
    else:
        model.write_text("" if kind == "empty" else "hello, I am not a model\n")
    db = tmp_path / "results.sqlite"
    assert "x.gguf" in failed_one_line(cli.invoke(app, ["run", str(model), "--results", str(db)]))
    bench = cli.invoke(app, ["bench", str(model), "-r", "1", "-p", "8", "-n", "0", "--no-warmup"])
    problems = [line for line in bench.output.splitlines() if line.startswith(("error:", "failed:"))]
    assert bench.exit_code != 0 and len(problems) == 1 and "x.gguf" in problems[0], bench.output
    assert "Traceback" not in bench.output
    if db.exists():  # a run that could not load is failed, not left running
        with ResultsStore(db, read_only=True) as store:
            assert {r["status"] for r in store.list_runs()} <= {"failed"}


def test_an_unreadable_model_file_is_one_line(smollm2_gguf: Path, tmp_path: Path) -> None:
    model = tmp_path / "unreadable.gguf"
    shutil.copyfile(smollm2_gguf, model)
    model.chmod(0)
    done = run("run", str(model), "--results", str(tmp_path / "results.sqlite"), obey_file_modes=True)
    line = one_line_error(done.stderr)
    assert done.returncode != 0 and "unreadable.gguf" in line and "Permission denied" in line, line


@pytest.mark.model
def test_a_gguf_renamed_txt_runs_and_prompts_beyond_the_context_are_named_failures(
    smollm2_gguf: Path, tmp_path: Path
) -> None:
    """The real model with a context too small for the long prompts: those calls are refused before
    llama.cpp sees them (and the phase table says so); the short ones run."""
    model = tmp_path / "renamed.txt"
    shutil.copyfile(smollm2_gguf, model)
    db = tmp_path / "results.sqlite"
    done = run("run", str(model), "--ctx", "512", "--retries", "1", "--results", str(db), "--threads", "1")
    assert done.returncode == 0, done.stderr
    assert "over context" in done.stdout, done.stdout
    with ResultsStore(db, read_only=True) as store:
        (entry,) = store.list_runs()
        record = store.load_run(entry["run_id"])
        calls = store.call_rows(entry["run_id"])
    refused = [c for c in calls if c["finish_reason"] == CONTEXT_OVERFLOW]
    assert refused and calls[0] in refused  # the analysis prompt (requirements and schema) is the longest
    assert all(c["generated_tokens"] is None and c["raw_output"] == "" for c in refused)
    assert record.phases["analyze"].overflows == 1


def test_a_prompt_larger_than_the_context_is_never_sent_and_earns_nothing(tmp_path: Path) -> None:
    project = Project.model_validate({
        "id": "sprawl", "title": "Sprawl", "size": "small",
        "requirements": " ".join(f"Rule {i}: members keep item {i} for later." for i in range(120)),
        "entities": ["members", "items"], "capabilities": ["create items", "list items"],
    })  # fmt: skip
    fake = FakeBackend([])
    config = RunConfig(model="fake", model_label="fake", backend="fake", mode="free", n_ctx=512, retries=2)
    db = tmp_path / "results.sqlite"
    record = execute_run(start_run(config, [project], db), db, create_backend=lambda _name: fake)
    assert fake.requests == []  # nothing was sent to the backend
    assert record.score == 0 and set(record.dimensions.values()) == {0.0}
    analyze = record.phases["analyze"]
    assert analyze.overflows == analyze.parts >= 1 and analyze.status == "failed"
    with ResultsStore(db, read_only=True) as store:
        calls = store.call_rows(record.run_id)
    assert {c["finish_reason"] for c in calls} == {CONTEXT_OVERFLOW}
    assert "does not fit the context of 512 tokens" in json.loads(calls[0]["errors_json"])[0]["message"]
    phases = score_tables(record)[1]
    assert any("over context" in cell for cell in phases.columns[1]._cells)


CATALOG = """
[[model]]
id = "tiny"
name = "Tiny"
family = "tiny"
license = "apache-2.0"
{extra}

[model.arch]
layers = {layers}
"""


@pytest.mark.parametrize(
    ("layers", "extra", "says"),
    [
        ('{ value = -4, source = "x", status = "verified" }', "", "must not be negative"),
        ('{ value = 0, source = "x", status = "verified" }', "", "must be at least 1"),
        ('{ value = "32", source = "x", status = "verified" }', "", "valid integer"),
        ('{ value = true, source = "x", status = "verified" }', "", "valid integer"),
        ('{ value = 30.0, source = "x", status = "verified" }', "", "valid integer"),
        ('{ value = 30, source = "x", status = "verified" }', 'instruct = "yes"', "valid boolean"),
    ],
)
def test_catalog_numbers_are_checked_strictly_by_type_and_range(
    tmp_path: Path, layers: str, extra: str, says: str
) -> None:
    path = tmp_path / "models.toml"
    path.write_text(CATALOG.format(layers=layers, extra=extra))
    with pytest.raises(ConfigError, match=says) as err:
        load_catalog(path)
    assert str(path) in err.value.one_line()
    done = cli.invoke(app, ["models"], env={"LAPBENCH_CATALOG": str(path)})
    assert says in failed_one_line(done)
