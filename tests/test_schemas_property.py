"""Property tests: random valid documents of every phase validate, survive a JSON round trip unchanged,
and random mutations of them are rejected with an error placed at (or under) the mutated spot."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.schemas import InterfaceDocument, ValidationContext, validate_document
from runner.schemas.feedback import Segment
from runner.schemas.testlogic import EXPRESSION_KINDS
from tests.support.strategies import (
    INNER_KINDS,
    LEAF_KINDS,
    analyze_documents,
    database_documents,
    interface_and_tests,
    interface_documents,
)

# No example database (.hypothesis/examples): runs stay bounded and independent of earlier runs.
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


def test_strategies_know_every_expression_kind() -> None:
    assert sorted(LEAF_KINDS + INNER_KINDS) == sorted(EXPRESSION_KINDS)


def _round_trip(phase: str, data: Any, context: ValidationContext | None = None) -> None:
    report = validate_document(phase, data, context)
    assert report.valid, report.feedback_text()
    assert report.document is not None
    dumped = report.document.model_dump(mode="json", by_alias=True)
    again = validate_document(phase, json.dumps(dumped), context)
    assert again.valid, again.feedback_text()
    assert again.document is not None
    assert again.document.model_dump(mode="json", by_alias=True) == dumped


@SETTINGS
@given(analyze_documents())
def test_analyze_round_trip(data: dict[str, Any]) -> None:
    _round_trip("analyze", data)


@SETTINGS
@given(database_documents())
def test_database_round_trip(data: dict[str, Any]) -> None:
    _round_trip("database", data)


@SETTINGS
@given(interface_documents())
def test_interface_round_trip(data: dict[str, Any]) -> None:
    _round_trip("interface", data)


@SETTINGS
@given(interface_and_tests())
def test_test_round_trip(pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    interface, tests = pair
    context = ValidationContext.from_documents(interface=InterfaceDocument.model_validate(interface))
    _round_trip("test", tests, context)


def _containers(node: Any, segs: tuple[Segment, ...] = ()) -> list[tuple[tuple[Segment, ...], Any]]:
    """Every object and array in a document with its path."""
    found: list[tuple[tuple[Segment, ...], Any]] = []
    if isinstance(node, dict | list):
        found.append((segs, node))
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in items:
            found += _containers(child, (*segs, key))
    return found


def _mutate(draw: Any, data: Any) -> tuple[Any, tuple[Segment, ...]]:
    """One mutation that no valid document survives: an unknown key in an object, or an array
    replaced by a string. Returns the document and the mutated path."""
    data = json.loads(json.dumps(data))
    spots = _containers(data)
    segs, node = draw(st.sampled_from(spots))
    if isinstance(node, dict) and (not segs or segs[-1] != "properties"):
        node["zzUnknown"] = 1
        return data, (*segs, "zzUnknown")
    if isinstance(node, list) and segs:
        parent = data
        for seg in segs[:-1]:
            parent = parent[seg]
        parent[segs[-1]] = "oops"
        return data, segs
    # a `properties` map accepts any name, but not a number as a schema
    assert isinstance(node, dict)
    node["zzUnknown"] = 1
    return data, (*segs, "zzUnknown")


PHASE_STRATEGIES = {
    "analyze": analyze_documents(),
    "database": database_documents(),
    "interface": interface_documents(),
    "test": interface_and_tests().map(lambda pair: pair[1]),
}


@SETTINGS
@given(st.sampled_from(sorted(PHASE_STRATEGIES)), st.data())
def test_random_mutation_is_rejected_at_its_place(phase: str, data: st.DataObject) -> None:
    document = data.draw(PHASE_STRATEGIES[phase])
    mutated, segs = _mutate(data.draw, document)
    report = validate_document(phase, mutated)
    assert not report.valid
    assert any(e.placed and e.segments == segs for e in report.errors), (segs, report.errors)
    assert "// ❌" in report.feedback_text()


@SETTINGS
@given(database_documents(), st.data())
def test_dangling_foreign_key_is_placed(document: dict[str, Any], data: st.DataObject) -> None:
    keys = [
        (f, t, k)
        for f, file in enumerate(document["files"])
        for t, table in enumerate(file["tables"])
        for k in range(len(table["foreignKeys"]))
    ]
    if not keys:
        return
    f, t, k = data.draw(st.sampled_from(keys))
    document["files"][f]["tables"][t]["foreignKeys"][k]["targetTable"] = "zz_missing_table"
    report = validate_document("database", document)
    assert [e.path for e in report.errors if e.kind == "unknown_reference"] == [
        f"$input.files[{f}].tables[{t}].foreignKeys[{k}].targetTable"
    ]
