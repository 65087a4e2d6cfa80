"""What the oracle answers: the part of a project's gold answer that a pipeline call asks for.

The oracle reads a call the way a model does, from its prompt: the tool it must call (`Tool `x``, or the
constraint's name), the project (its title line), the task (the table, the planned operation, the test
function it names, the operation whose logic it asks for) and, for an operation, which components are already defined. A call it cannot place is
answered with an empty object, which fails validation like any wrong answer would.
"""

from __future__ import annotations

import re
from typing import Any

from runner.gold import GoldAnswer
from runner.rubric.interface import needed_components
from runner.run.plan import resource_of
from runner.schemas.interface import InterfaceDocument

_TOOL = re.compile(r"Tool `([\w.]+)`")
_TABLE = re.compile(r"table `([a-z0-9_]+)`")
_OPERATION = re.compile(r"operation `(get|post|put|patch|delete) (/[^`\s]*)`")
_FUNCTION = re.compile(r"test function `(\w+)`")
_LOGIC = re.compile(r"logic of `(get|post|put|patch|delete) (/[^`\s]*)`")
_DEFINED_BLOCK = re.compile(r"Components already defined[^\n]*:\n((?:[A-Z][^\n]*\n?)*)")


PARTS_BY_TOOL = {
    "write_analyze": "analyze",
    "write_database_file": "database.file",
    "write_database_table": "database.table",
    "write_endpoint_plan": "interface.plan",
    "write_interface_operation": "interface.operation",
    "write_test_function": "test.function",
    "write_realize_operation": "realize.operation",
}
"""Tool names as the prompts give them (runner.schemas.tools.tool_name) -> the pipeline part."""


def tool_of(prompt: str, constraint_name: str | None) -> str | None:
    """The pipeline part this call asks for."""
    match = _TOOL.search(prompt)
    name = match.group(1) if match else constraint_name
    return PARTS_BY_TOOL.get(name or "", name)


def task_of(prompt: str) -> str:
    """The task of the original request (a retry appends feedback after it, which may quote names)."""
    head = prompt.split("\n\nYour previous call", 1)[0]
    return head.rsplit("Task:", 1)[-1]


def defined_components(prompt: str) -> set[str]:
    match = _DEFINED_BLOCK.search(prompt)
    if not match:
        return set()
    return {line.split(" ", 1)[0] for line in match.group(1).splitlines() if line.strip()}


def answer(gold: GoldAnswer, tool: str | None, prompt: str) -> dict[str, Any]:
    """The gold part for this call, as a JSON value (a fresh copy: callers may degrade it)."""
    task = task_of(prompt)
    data = gold.data
    if tool == "analyze":
        return _copy(data["analyze"])
    if tool == "database.file":
        return _copy(data["database"]["files"][0])
    if tool == "database.table":
        name = _first(_TABLE, task)
        tables = [t for f in data["database"]["files"] for t in f["tables"]]
        return _copy(next((t for t in tables if t["name"] == name), {}))
    if tool == "interface.plan":
        return {"endpoints": [_planned(op) for op in data["interface"]["operations"]]}
    if tool == "interface.operation":
        match = _OPERATION.search(task)
        if not match:
            return {}
        return operation_part(gold.interface, data["interface"], match.group(1), match.group(2), prompt)
    if tool == "test.function":
        name = _first(_FUNCTION, task)
        return _copy(next((f for f in data["test"]["functions"] if f["name"] == name), {}))
    if tool == "realize.operation":
        match = _LOGIC.search(task)
        if not match:
            return {}
        operations = data.get("realize", {}).get("operations", [])
        found = (o for o in operations if (o["method"], o["path"]) == match.group(1, 2))
        return _copy(next(found, {}))
    return {}


def operation_part(
    doc: InterfaceDocument, raw: dict[str, Any], method: str, path: str, prompt: str
) -> dict[str, Any]:
    """The operation plus every component it needs (transitively) that the prompt does not list yet."""
    index = next((i for i, op in enumerate(doc.operations) if op.method == method and op.path == path), None)
    if index is None:
        return {}
    operation = doc.operations[index]
    needed = needed_components([n for n in (operation.request_body, operation.response_body) if n], doc)
    defined = defined_components(prompt)
    components = [
        _copy(raw["components"][i])
        for i, component in enumerate(doc.components)
        if component.name in needed and component.name not in defined
    ]
    return {"operation": _copy(raw["operations"][index]), "components": components}


def test_function_names(gold: GoldAnswer) -> list[str]:
    return [f.name for f in gold.test.functions]


def resources(gold: GoldAnswer) -> list[str]:
    return list(dict.fromkeys(resource_of(op.path) for op in gold.interface.operations))


def _planned(operation: dict[str, Any]) -> dict[str, Any]:
    purpose = operation.get("description", "").split(". ")[0][:200]
    return {"method": operation["method"], "path": operation["path"], "purpose": purpose or operation["name"]}


def _first(pattern: re.Pattern[str], text: str) -> str | None:
    match = pattern.search(text)
    return match.group(1) if match else None


def _copy(value: Any) -> Any:
    import copy

    return copy.deepcopy(value)
