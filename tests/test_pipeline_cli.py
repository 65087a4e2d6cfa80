"""`lapbench run`, `runs` and `score` through the real CLI (typer's CliRunner) with the fake backend."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from backends.fake import FakeBackend
from runner.cli import app
from runner.projects import suite_projects
from runner.rubric.types import AXIS_POINTS
from runner.run.config import RunConfig
from runner.run.run import execute_run, start_run
from tests.support.designer import TABLES, analyze, answer, table
from tests.support.documents import good_tests, interface_doc

runner = CliRunner()


def scripted_replies(tmp_path: Path) -> list[str]:
    """What the competent designer says, in order, for the smoke suite (a list the CLI can pass on)."""
    fake = FakeBackend([answer] * 100)
    config = RunConfig(model="fake", model_label="fake", backend="fake", suite="smoke", mode="free")
    path = tmp_path / "script.sqlite"
    execute_run(start_run(config, suite_projects("smoke"), path), path, create_backend=lambda _n: fake)
    return [g.text for g in fake.generations]


def test_run_json_record_then_runs_lists_it(tmp_path: Path) -> None:
    options = tmp_path / "options.json"
    options.write_text(json.dumps({"replies": scripted_replies(tmp_path)}))
    results = tmp_path / "cli.sqlite"
    args = ["run", "designer", "--backend", "fake", "--mode", "free", "--results", str(results)]
    done = runner.invoke(app, [*args, "--backend-options", f"@{options}", "--json"])
    assert done.exit_code == 0, done.output
    record = json.loads(done.stdout[done.stdout.index("{") :])
    for key in (
        "run_id",
        "model",
        "backend",
        "suite",
        "score",
        "axes",
        "dimensions",
        "phases",
        "rubric_version",
    ):
        assert key in record
    assert record["model"] == "designer" and record["backend"] == "fake" and record["suite"] == "smoke"
    assert set(record["phases"]["test"]) >= {"status", "calls", "retries", "first_try_successes", "tokens"}
    assert 0 < record["score"] <= 100
    listed = runner.invoke(app, ["runs", "--results", str(results), "--json"])
    assert listed.exit_code == 0
    rows = json.loads(listed.stdout)
    assert [(r["run_id"], r["status"], r["score"]) for r in rows] == [
        (record["run_id"], "finished", record["score"])
    ]
    table_view = runner.invoke(app, ["runs", "--results", str(results)])
    assert record["run_id"] in table_view.stdout


def test_run_rejects_bad_options_in_one_line(tmp_path: Path) -> None:
    done = runner.invoke(app, ["run", "x", "--backend", "fake", "--mode", "fancy"])
    assert done.exit_code == 2 and "--mode must be grammar or free" in done.output
    missing = runner.invoke(
        app, ["run", "x", "--backend", "fake", "--project-file", str(tmp_path / "no.toml")]
    )
    assert missing.exit_code == 2 and "does not exist" in missing.output
    resume = runner.invoke(app, ["run", "--resume", "nope", "--results", str(tmp_path / "r.sqlite")])
    assert resume.exit_code == 1 and "no run 'nope'" in resume.output


def write(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_score_detects_the_phase_and_scores_its_axis(tmp_path: Path) -> None:
    database = {
        "files": [{"filename": "schema.prisma", "namespace": "Todo", "tables": [table(t) for t in TABLES]}]
    }
    db_file = write(tmp_path, "db.json", database)
    done = runner.invoke(app, ["score", str(db_file), "--project", "todo", "--json"])
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    assert (
        result["phase"] == "database" and result["valid"] and result["max_points"] == AXIS_POINTS["database"]
    )
    api_file = write(tmp_path, "api.json", interface_doc().model_dump(by_alias=True, mode="json"))
    tests_file = write(tmp_path, "tests.json", good_tests())
    done = runner.invoke(app, ["score", str(tests_file), "--interface", str(api_file), "--json"])
    assert done.exit_code == 0, done.output
    scored = json.loads(done.stdout)  # the support tests check no error case: rubric v2 takes points for that
    assert (
        scored["max_points"] == pytest.approx(AXIS_POINTS["test"])
        and 0 < scored["points"] < AXIS_POINTS["test"]
    )
    analysis = runner.invoke(app, ["score", str(write(tmp_path, "a.json", analyze())), "--project", "todo"])
    assert analysis.exit_code == 0 and "entity_coverage" in analysis.stdout
    broken = dict(database)
    broken["files"] = [dict(database["files"][0], namespace="lower case")]
    bad = runner.invoke(app, ["score", str(write(tmp_path, "bad.json", broken)), "--json"])
    assert bad.exit_code == 1
    assert json.loads(bad.stdout)["points"] == 0.0
    unknown = runner.invoke(app, ["score", str(write(tmp_path, "x.json", {"hello": 1}))])
    assert unknown.exit_code == 2 and "--phase" in unknown.output


@pytest.mark.model
def test_run_refuses_a_model_that_does_not_fit(smollm2_gguf: Path, tmp_path: Path) -> None:
    done = runner.invoke(
        app, ["run", str(smollm2_gguf), "--ctx", str(2**24), "--results", str(tmp_path / "r.db")]
    )
    assert done.exit_code == 2, done.output
    assert "--force" in done.output and "GiB" in done.output
    assert not (tmp_path / "r.db").exists()  # refused before a run was created
