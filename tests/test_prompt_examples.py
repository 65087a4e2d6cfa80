"""Prompts plant no copyable example from another domain: the default model copied `/articles/...` from the
prompt into every endpoint. Any example a prompt gives is built from the project's own names."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest

from runner.gold import load_gold
from runner.projects import Project, builtin_projects
from runner.run.config import RunConfig
from runner.run.prompts import SYSTEM, endpoint_plan_task, example_path
from runner.run.run import benchmark
from runner.run.store import ResultsStore
from runner.run.tools import RUN_TOOLS, tool_doc
from runner.schemas.database import Table
from runner.schemas.interface import PATH_PATTERN
from runner.schemas.pydantic_errors import PATTERN_WORDS

FOREIGN_EXAMPLES = (
    "article", "articles", "articleId", "IArticle", "article_comments", "comments", "author", "author_id",
    "username", "customer", "seller", "order_item", "order_items",
)  # fmt: skip
"""The example names prompts used to plant (found with `grep -rn "e.g." runner/`)."""


@cache
def own_words(project_id: str) -> frozenset[str]:
    """Every word of the project's requirements and of its gold answer: the names that are its own."""
    project = builtin_projects()[project_id]
    text = project.requirement_text + json.dumps(load_gold(project_id).data)
    return frozenset(re.findall(r"[A-Za-z0-9_]+", text))


def foreign(text: str, project_id: str) -> set[str]:
    return {w for w in FOREIGN_EXAMPLES if re.search(rf"\b{w}\b", text) and w not in own_words(project_id)}


@pytest.mark.parametrize("project_id", sorted(builtin_projects()))
def test_tool_docs_feedback_words_and_tasks_name_nothing_foreign(project_id: str) -> None:
    texts = [SYSTEM, *(tool_doc(name) for name in RUN_TOOLS), *PATTERN_WORDS.values()]
    tables = [t for f in load_gold(project_id).database.files for t in f.tables]
    texts.append(endpoint_plan_task(tables))
    assert not {w for text in texts for w in foreign(text, project_id)}


def test_the_example_path_is_the_projects_own_and_the_placeholder_cannot_be_copied() -> None:
    gold = load_gold("todo").data["database"]["files"][0]["tables"][0]
    table = Table.model_validate({**gold, "name": "todo_items"})
    assert example_path([table]) == "/todo-items/{todoItemId}"
    assert re.match(PATH_PATTERN, example_path([table]))
    assert not re.match(PATH_PATTERN, example_path([]))  # a grammar would refuse the placeholder


def test_every_prompt_of_a_gold_run_names_only_the_projects_own_examples(tmp_path: Path) -> None:
    projects: list[Project] = list(builtin_projects().values())
    config = RunConfig(model="gold", model_label="oracle", backend="oracle", suite="full")
    record = benchmark(config, projects, tmp_path / "results.sqlite")
    with ResultsStore(tmp_path / "results.sqlite", read_only=True) as store:
        calls = store.finished_calls(record.run_id)
    phases = {c.phase for c in calls.values()}
    assert {"analyze", "database", "interface", "test"} <= phases
    planted = {(c.project, c.phase, w) for c in calls.values() for w in foreign(c.prompt, c.project)}
    assert not planted
