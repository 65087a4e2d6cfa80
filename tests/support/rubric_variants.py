"""Hand-made variants of documents for the rubric v2 tests (tests/test_rubric_v2.py): less work, extra
work, parts with a given number of faults."""

from __future__ import annotations

import copy
from typing import Any

from runner.rubric.types import Checklist, Dimension


def checks_part(passed: int, failed: int) -> Checklist:
    part = Checklist("checks")
    for i in range(passed + failed):
        part.check(i < passed, f"fault {i}")
    return part


def without_table(data: dict[str, Any], name: str) -> dict[str, Any]:
    out = copy.deepcopy(data)
    for file in out["database"]["files"]:
        file["tables"] = [t for t in file["tables"] if t["name"] != name]
        for table in file["tables"]:
            kept = [fk for fk in table["foreignKeys"] if fk["targetTable"] != name]
            gone = {fk["name"] for fk in table["foreignKeys"]} - {fk["name"] for fk in kept}
            table["foreignKeys"] = kept
            for field in ("uniqueIndexes", "plainIndexes"):
                table[field] = [i for i in table[field] if not set(i["columns"]) & gone]
    return out


def points(dimensions: list[Dimension]) -> float:
    return sum(d.points for d in dimensions)


def with_extra_work(data: dict[str, Any]) -> dict[str, Any]:
    """`data` plus work the project did not ask for, all of it sound: a copy of a table under another
    name, a copy of a read operation under another path, a copy of a test function as a scenario."""
    out = copy.deepcopy(data)
    table = copy.deepcopy(out["database"]["files"][0]["tables"][0])
    table["name"] = "archived_" + table["name"]
    out["database"]["files"][0]["tables"].append(table)
    read = next(op for op in out["interface"]["operations"] if op["method"] == "get")
    out["interface"]["operations"].append({**copy.deepcopy(read), "path": "/archive" + read["path"]})
    scenario = copy.deepcopy(out["test"]["functions"][0])
    scenario["name"] = "test_a_second_scenario"
    out["test"]["functions"].append(scenario)
    return out
