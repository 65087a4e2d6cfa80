"""How a project is split into calls: caps per size class, names of namespaces and resources, and the
check that a part is the one that was asked for (table names come from `runner.schemas.inflection.plural`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from runner.schemas.feedback import ValidationReport, placed


@dataclass(frozen=True)
class Caps:
    """Most parts written per phase; bounds the run time of a project by its size class."""

    max_tables: int
    max_endpoints: int
    max_tests: int


CAPS: dict[str, Caps] = {
    # Sized so that every gold answer fits with room to spare (largest: small 17 operations and 4 test
    # functions, medium 26 and 7, large 34 and 7).
    "small": Caps(max_tables=6, max_endpoints=20, max_tests=5),
    "medium": Caps(max_tables=10, max_endpoints=32, max_tests=8),
    "large": Caps(max_tables=14, max_endpoints=40, max_tests=10),
}


def pascal(name: str) -> str:
    """todo_lists -> TodoLists."""
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", name) if part) or "Main"


def resource_of(path: str) -> str:
    """The first path segment that is not a parameter: /todo-lists/{id}/todos -> todo-lists."""
    for segment in path.strip("/").split("/"):
        if segment and not segment.startswith("{"):
            return segment
    return "root"


def expect_value(
    report: ValidationReport, path: tuple[str, ...], expected: Any, what: str
) -> ValidationReport:
    """Add an error when a validated part has another value at `path` than the one asked for."""
    if not report.valid or not isinstance(report.data, dict):
        return report
    node: Any = report.data
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    if node == expected:
        return report
    error = placed(
        report.data, path, "unexpected_value", f"{what} {expected!r}", f"Use {expected!r} as asked."
    )
    return ValidationReport(report.phase, report.data, (*report.errors, error), report.document)
