"""The rules of rubric v2 (issue 13, DESIGN §4.4), one test each: nothing to judge is 0; ratios are taken
over the project's requirements (writing less never raises a ratio); efficiency counts in proportion to
the planned work done (a real pipeline that gives up early); every dimension moves on a valid document;
AutoBe's gate fails only on an unusable DDL or OpenAPI; the version is stored and v1 runs stay readable
and labelled."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from backends.base import GenerationRequest, LoadConfig
from backends.fake import FakeBackend
from runner.autobe import score_autobe_file
from runner.cli import app
from runner.gold import load_gold, validate_gold
from runner.gold.calibrate import STATIC_AXES, static_card, static_points, with_requirements
from runner.gold.defects import DEFECTS, inject, mutant
from runner.projects import builtin_projects
from runner.report.build import build_report
from runner.report.compare import compare_runs, format_comparison
from runner.rubric.analyze import score_analysis
from runner.rubric.database import score_database
from runner.rubric.efficiency import ToolCallStats, score_efficiency
from runner.rubric.interface import score_interface
from runner.rubric.testlogic import score_tests
from runner.rubric.total import ScoreCard
from runner.rubric.types import AXIS_POINTS, RUBRIC_VERSION, Checklist, over_required
from runner.run.aggregate import build_record
from runner.run.harness import Harness, HarnessOptions
from runner.run.pipeline import ProjectPipeline
from runner.run.progress import score_tables
from runner.run.record import PhaseSummary, ProjectResult
from runner.run.scoring import Documents, score_documents, score_outcome, score_static, tool_stats
from runner.run.store import ResultsStore
from runner.schemas.analyze import AnalyzeDocument
from runner.schemas.database import DatabaseDocument
from runner.schemas.interface import InterfaceDocument
from runner.schemas.testlogic import TestDocument
from tests.support.designer import analyze, answer
from tests.support.rubric_variants import checks_part, points, with_extra_work, without_table

PROJECTS = builtin_projects()
EXAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "autobe-examples"


def _data(project_id: str) -> dict[str, Any]:
    return with_requirements(PROJECTS[project_id])


def _card(project_id: str, data: dict[str, Any]) -> ScoreCard:
    return static_card(PROJECTS[project_id], data)


def _fractions(card: ScoreCard) -> dict[str, float]:
    return {f"{d.axis}.{d.name}": d.fraction for d in card.dimensions}


# nothing to judge --------------------------------------------------------------------------------------
def test_nothing_to_judge_scores_zero() -> None:
    assert Checklist("checks").result()[0] == 0.0
    assert over_required([], [], "tables")[0] == 0.0
    assert score_documents(Documents(), PROJECTS["todo"], [], {}).score == 0.0
    # v1 gave this 17 of 30: one table with no column, no key, no index
    lone = {"name": "widgets", "description": "W.", "stance": "primary", "primaryKey": "id",
            "foreignKeys": [], "columns": [], "uniqueIndexes": [], "plainIndexes": []}  # fmt: skip
    doc = DatabaseDocument.model_validate(
        {"files": [{"filename": "a.prisma", "namespace": "A", "tables": [lone]}]}
    )
    assert sum(d.points for d in score_database(doc, PROJECTS["todo"].entities)) == 0.0
    naming = [d for d in score_database(doc) if d.fraction > 0]  # plural: the one thing right
    assert [d.name for d in naming] == ["naming"]


# ratios over requirements ------------------------------------------------------------------------------
def test_a_faulty_extra_part_only_costs() -> None:
    """Averaged in, a half-right extra part lifted a mean of worse required parts (0 -> 0.25); it costs."""
    half = checks_part(1, 1)  # part_fraction 0.5
    for required in ([checks_part(0, 1)], [checks_part(2, 0)], [checks_part(2, 0), checks_part(1, 2)]):
        alone = over_required(required, ["a missing one"], "tables")[0]
        assert over_required(required, ["a missing one"], "tables", [half])[0] < alone or alone == 0.0
        assert over_required(required, ["a missing one"], "tables", [checks_part(3, 0)])[0] == alone
    assert over_required([], [], "tables", [half])[0] == 0.0


@pytest.mark.parametrize("project_id", ["todo", "discussion_board"])
def test_writing_less_never_raises_a_ratio(project_id: str) -> None:
    """Leaving out a required table, an operation that serves a capability or a test function, from the
    gold answer or from a damaged one, never raises any dimension."""
    project = PROJECTS[project_id]
    bases = [_data(project_id), mutant(project_id, _data(project_id), 3, random.Random(5))[0]]
    for data in bases:
        before = _fractions(_card(project_id, data))
        gold = validate_gold(project_id, data)
        smaller = [without_table(data, t.name) for t in gold.database.tables() if t.name in project.entities]
        for i in range(len(data["interface"]["operations"])):
            fewer = copy.deepcopy(data)
            del fewer["interface"]["operations"][i]
            smaller.append(fewer)
        for i in range(len(data["test"]["functions"])):
            fewer = copy.deepcopy(data)
            del fewer["test"]["functions"][i]
            smaller.append(fewer)
        for less in smaller:
            docs = Documents.of(
                {
                    p: type(getattr(gold, p)).model_validate(less[p])
                    for p in ("analyze", "database", "interface", "test")
                }
            )
            after = _fractions(static_card(project, less, docs))
            raised = {k: (before[k], v) for k, v in after.items() if v > before[k] + 1e-9}
            assert not raised, raised


# efficiency × planned work done ------------------------------------------------------------------------
def test_efficiency_counts_only_the_planned_work_done() -> None:
    calls = [ToolCallStats("database", 1, True, 100, 100, 3)] * 3
    full = AXIS_POINTS["efficiency"]
    assert sum(d.points for d in score_efficiency(calls, 3)) == pytest.approx(full)
    assert sum(d.points for d in score_efficiency(calls, 6)) == pytest.approx(full / 2)


def test_a_pipeline_that_gives_up_early_is_not_efficient() -> None:
    """A real pipeline on the scripted backend: the table calls fail, the pipeline gives up after three,
    and the tables it skipped still count as planned."""
    wide = analyze()
    wide["entities"] += [{"name": n, "description": f"A {n}."} for n in ("tag", "label", "comment")]

    def reply(request: GenerationRequest) -> str:
        tool = request.messages[1].content.split("`", 2)[1]
        if tool == "write_analyze":
            return json.dumps(wide)
        return "{" if tool == "write_database_table" else answer(request)

    backend = FakeBackend([reply] * 200, constraint_mode="enforce")
    backend.load(LoadConfig(model="fake"))
    harness = Harness(backend, HarnessOptions(retries=1), record=lambda call: None)
    project = PROJECTS["todo"]
    outcome = ProjectPipeline(harness, project, 0).run()
    database = outcome.phases["database"]
    assert database.planned == 6 and len(database.results) == 3  # gave up after three failed tables
    card = score_outcome(outcome, project)
    stats = tool_stats(outcome)
    as_if_finished = sum(d.points for d in score_efficiency(stats, len(stats)))
    assert card.axes["efficiency"] < as_if_finished
    assert "planned parts done" in next(d.detail for d in card.dimensions if d.axis == "efficiency")


# every dimension moves ---------------------------------------------------------------------------------
def test_every_dimension_moves_on_some_valid_document() -> None:
    moved: set[str] = set()
    for project_id in ("todo", "shopping"):
        data = _data(project_id)
        gold = _fractions(_card(project_id, data))
        for kind in DEFECTS:
            mutated = inject(project_id, data, kind, random.Random(2))
            if mutated is not None:
                after = _fractions(_card(project_id, mutated))
                moved |= {k for k, v in after.items() if v < gold[k]}
    calls = [ToolCallStats("test", 2, True, 300, 100, 3), ToolCallStats("test", 1, False, 50, 50, 3)]
    moved |= {f"efficiency.{d.name}" for d in score_efficiency(calls, 2) if d.fraction < 1.0}
    # the runtime axis executes the logic: scripts/bench_runtime.py and its tests move it
    every = {k for k in _fractions(_card("todo", _data("todo"))) if k.split(".")[0] in STATIC_AXES}
    assert every - moved == set()
    assert {k.split(".")[0] for k in every} == set(STATIC_AXES)


# AutoBe: gate vs dimension -----------------------------------------------------------------------------
@pytest.mark.skipif(not EXAMPLES.is_dir(), reason=f"AutoBe samples not found at {EXAMPLES}")
def test_autobe_quality_defects_cost_points_and_only_an_unusable_document_fails_the_gate() -> None:
    # gpt-4.1-mini left five path parameters undeclared: v1 failed the whole axis, v2 takes points
    record = score_autobe_file(EXAMPLES / "openai" / "gpt-4.1-mini" / "bbs" / "document.json")
    assert record.gate_passed and record.score > 15
    rest = next(d for d in record.dimensions if d.name == "rest_conventions")
    assert rest.fraction < 1.0 and "pathParameters" in rest.detail


def test_an_autobe_schema_whose_ddl_cannot_work_fails_the_gate(tmp_path: Path) -> None:
    def model(name: str, target: str | None) -> dict[str, Any]:
        fks = [{"name": f"{target}_id", "type": "uuid", "description": "Owner.", "unique": False, "nullable": False,
                "relation": {"name": target, "targetModel": target, "mappingName": name}}] if target else []  # fmt: skip
        return {"name": name, "description": "A row.", "material": False, "stance": "primary",
                "primaryField": {"name": "id", "type": "uuid", "description": "Primary Key."},
                "foreignFields": fks, "uniqueIndexes": [], "plainIndexes": [], "ginIndexes": [],
                "plainFields": [{"name": "title", "type": "string", "description": "T.", "nullable": False}]}  # fmt: skip

    path = tmp_path / "vendor" / "model" / "todo" / "prisma.json"
    path.parent.mkdir(parents=True)
    files = [{"filename": "a.prisma", "namespace": "A", "models": [model("todos", "users")]}]
    path.write_text(json.dumps({"files": files}))
    record = score_autobe_file(path)
    assert not record.gate_passed and record.score == 0
    assert "SQLite" in record.dimensions[0].detail


# version stored, v1 labelled ---------------------------------------------------------------------------
V1_AXES = {"database": 20.0, "interface": 18.0, "test": 10.0, "efficiency": 12.0}


def _store_run(store: ResultsStore, run_id: str, version: str) -> None:
    axes = V1_AXES if version == "1" else {"analysis": 8.0, **V1_AXES}
    config = {"model_label": f"m{version}", "backend": "fake", "suite": "smoke", "mode": "grammar",
              "engine": "llguidance", "repeats": 2, "seed": 0}  # fmt: skip
    store.create_run(run_id, model=f"m{version}", backend="fake", suite="smoke", rubric_version=version,
                     config=config, machine={})  # fmt: skip
    phases = {
        "analyze": PhaseSummary(status="ok", calls=1, retries=0, first_try_successes=1, tokens=10, parts=1)
    }
    results = [
        ProjectResult(
            project="todo",
            repeat=r,
            seed=r,
            score=sum(axes.values()) + r,
            axes=axes,
            dimensions={"database.naming": 3.0 + r},
            phases=phases,
        )
        for r in range(2)
    ]
    record = build_record(run_id=run_id, status="finished", config=config, machine={}, projects=["todo"],
                          results=results, started_at="2026-11-24T09:00:00+00:00", finished_at=None,
                          wall_seconds=1.0)  # fmt: skip
    if version == "1":  # what the v1 code stored: its own axes and version
        v1_ci = {a: c for a, c in record.axes_ci.items() if a in V1_AXES}
        record = record.model_copy(update={"rubric_version": "1", "axes": V1_AXES, "axes_ci": v1_ci})
    store.save_record(record)


def test_the_version_is_stored_and_v1_runs_stay_readable_and_labelled(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    with ResultsStore(path) as store:
        _store_run(store, "20261124-0900-old", "1")
        _store_run(store, "20261124-1000-new", RUBRIC_VERSION)
        rows = {r["run_id"]: r for r in store.list_runs()}
        old = store.load_run("20261124-0900-old")
    assert {r["rubric_version"] for r in rows.values()} == {"1", RUBRIC_VERSION}
    assert score_tables(old)  # the terminal tables of a v1 record (no analysis axis)
    runs = CliRunner().invoke(app, ["runs", "--results", str(path)], env={"COLUMNS": "200"})
    assert runs.exit_code == 0, runs.output
    assert "[rubric v1]" in runs.output and runs.output.count("[rubric v") == 1
    files = build_report(path, [], tmp_path / "report.html")
    markdown = files.markdown.read_text()
    assert (
        "m1 (grammar) [rubric v1]" in markdown
        and f"rubric v1, v{RUBRIC_VERSION}" in markdown
        and "Warning" in markdown
    )
    comparison = compare_runs(path, "20261124-0900-old", "20261124-1000-new", samples=200)
    assert comparison.warning is not None and "WARNING" in format_comparison(comparison)
    assert comparison.as_json()["a"]["rubric_version"] == "1"
    same = compare_runs(path, "20261124-1000-new", "20261124-1000-new", samples=200)
    assert same.warning is None


def test_static_documents_score_like_the_oracle_run_that_writes_them(tmp_path: Path) -> None:
    """One code path: the gold scored statically (bench_rubric.py) equals the oracle run through the
    pipeline, harness and store."""
    from runner.run.config import RunConfig
    from runner.run.run import benchmark

    config = RunConfig(model="gold", model_label="oracle", backend="oracle", suite="smoke")
    record = benchmark(config, [PROJECTS["todo"]], tmp_path / "results.sqlite")
    gold = load_gold("todo")
    docs = Documents(gold.analyze, gold.database, gold.interface, gold.test, gold.realize)
    static = score_static(gold.data, docs, PROJECTS["todo"])
    assert record.score == pytest.approx(static.score, abs=1e-3) and record.score >= 95
    assert record.axes == pytest.approx(static.axes, abs=1e-3)
    # the calibration's static axes are the same points without the runtime axis
    assert static_points(_card("todo", _data("todo"))) == pytest.approx(
        100.0 * (static.score - static.axes.get("runtime", 0.0)) / (100.0 - AXIS_POINTS.get("runtime", 0.0)),
        abs=1e-3,
    )


# nothing to judge, axis by axis ------------------------------------------------------------------------
def test_an_empty_document_scores_zero_on_its_axis() -> None:
    """A document with nothing in it (as an imported one may be: the validators require one operation,
    one test function) earns nothing on its axis, with or without project requirements."""
    project, gold = PROJECTS["todo"], load_gold("todo")
    no_tests = TestDocument.model_construct(functions=[])
    no_ops = InterfaceDocument.model_construct(operations=[], components=[])
    blank = AnalyzeDocument.model_construct(actors=[], entities=[], features=[], rules=[])
    assert points(score_tests(no_tests, gold.interface, project.capabilities)) == 0.0
    assert points(score_tests(no_tests, gold.interface)) == 0.0
    assert points(score_interface(no_ops, gold.database, project.capabilities)) == 0.0
    assert points(score_interface(no_ops, None, dto_reference=False)) == 0.0
    assert points(score_analysis(blank, project.entities, project.capabilities)) == 0.0
    assert points(score_efficiency([], 10)) == 0.0


# extra work never earns --------------------------------------------------------------------------------
@pytest.mark.parametrize("project_id", ["todo", "shopping"])
def test_extra_work_never_raises_a_dimension(project_id: str) -> None:
    for seed in (None, 3):
        data = _data(project_id)
        if seed is not None:
            data = mutant(project_id, data, 6, random.Random(seed))[0]
        before = _fractions(_card(project_id, data))
        after = _fractions(_card(project_id, with_extra_work(data)))
        raised = {k: (before[k], v) for k, v in after.items() if v > before[k] + 1e-9}
        assert not raised, raised


# coverage where it belongs -----------------------------------------------------------------------------
def test_requirement_coverage_is_on_the_axis_it_measures_and_no_fixed_dimension_is_left() -> None:
    card = _card("todo", _data("todo"))
    names = set(_fractions(card))
    assert {"analysis.entity_coverage", "analysis.feature_coverage", "database.entity_coverage"} <= names
    assert "interface.capability_coverage" in names and "test.endpoint_coverage" in names
    assert not [n for n in names if n.startswith("efficiency.") and "coverage" in n]
    # v1's dimensions that validation already fixed (every valid document scored 1) are gone
    assert not names & {"test.variables_declared", "test.endpoints_exist", "efficiency.analysis_coverage"}
    project = PROJECTS["todo"]
    thin = inject("todo", _data("todo"), "table_missing", random.Random(0))
    crud = inject("todo", _data("todo"), "crud_endpoint_missing", random.Random(0))
    assert thin is not None and crud is not None
    assert _fractions(_card("todo", thin))["database.entity_coverage"] < 1.0
    assert _fractions(_card("todo", crud))["interface.capability_coverage"] < 1.0
    assert project.entities and project.capabilities


# test functions: named after what they test ------------------------------------------------------------
def test_a_function_named_after_a_resource_it_never_calls_stands_for_nothing() -> None:
    """Renaming a function into the place of a missing one does not fill it: the resource stays untested
    on every per-function dimension. A scenario named after no resource is not judged on focus."""
    data = _data("todo")
    gold = _fractions(_card("todo", data))
    assert gold["test.focused_tests"] == 1.0  # the gold has scenarios: test_todo_edits, test_list_pages
    without = copy.deepcopy(data)
    without["test"]["functions"] = [f for f in without["test"]["functions"] if f["name"] != "test_todos"]
    renamed = copy.deepcopy(without)
    auth = next(f for f in renamed["test"]["functions"] if f["name"] == "test_auth")
    auth["name"] = "test_todos"  # calls /auth only
    missing, filled = _card("todo", without), _card("todo", renamed)
    assert static_points(filled) <= static_points(missing)
    for name in ("test.assertions", "test.negative_checks", "test.focused_tests"):
        assert _fractions(filled)[name] <= _fractions(missing)[name], name
