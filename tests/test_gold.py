"""The gold answers: one per reference project, each valid with the pipeline's contexts, and lined up with
the way the pipeline splits a project into calls (so that the oracle can replay them part by part)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.errors import ConfigError
from runner.gold import PHASES, gold_projects, load_gold, read_gold_data, validate_gold
from runner.gold.defect_kinds import walk
from runner.oracle.answers import needed_components
from runner.projects import builtin_projects
from runner.run.plan import pascal, resource_of
from runner.schemas.inflection import plural

PROJECTS = sorted(builtin_projects())


def test_every_reference_project_has_a_gold_answer() -> None:
    assert gold_projects() == PROJECTS


@pytest.mark.parametrize("project_id", PROJECTS)
def test_gold_lines_up_with_the_pipeline(project_id: str) -> None:
    gold = load_gold(project_id)
    project = builtin_projects()[project_id]
    tables = [t.name for t in gold.database.tables()]
    assert [plural(e.name) for e in gold.analyze.entities] == tables
    assert set(project.entities) <= set(tables)
    (file,) = gold.data["database"]["files"]
    assert file["namespace"] == pascal(project_id)
    resources = list(dict.fromkeys(resource_of(op.path) for op in gold.interface.operations))
    assert [f.name for f in gold.test.functions] == ["test_" + r.replace("-", "_") for r in resources]


@pytest.mark.parametrize("project_id", PROJECTS)
def test_every_operation_is_called_and_every_component_used(project_id: str) -> None:
    gold = load_gold(project_id)
    called = {(s["method"], s["path"]) for f in gold.data["test"]["functions"] for s in _api_calls(f)}
    assert {(op.method, op.path) for op in gold.interface.operations} <= called
    bodies = [n for op in gold.interface.operations for n in (op.request_body, op.response_body) if n]
    assert needed_components(bodies, gold.interface) == {c.name for c in gold.interface.components}


def _api_calls(node: Any) -> Iterator[dict[str, Any]]:
    return (n for n in walk(node) if isinstance(n, dict) and n.get("kind") == "apiCall")


def test_a_broken_gold_answer_is_refused_with_the_project_and_phase(tmp_path: Path) -> None:
    data = read_gold_data("todo")
    data["database"]["files"][0]["tables"][1]["foreignKeys"][0]["targetTable"] = "nowhere"
    with pytest.raises(ConfigError, match="gold database of todo does not validate"):
        validate_gold("todo", data)
    with pytest.raises(ConfigError, match="no gold analyze document"):
        read_gold_data("todo", tmp_path)
    assert PHASES == ("analyze", "database", "interface", "test")
