"""Database axis: a hand-made good design against deliberately broken variants, the DDL gate, the
per-table averaging over required entities, and determinism."""

from __future__ import annotations

import copy
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

from runner.render.ddl import render_ddl
from runner.rubric.database import score_database
from runner.rubric.sqlite_probe import probe
from runner.rubric.types import AXIS_POINTS, Dimension
from runner.schemas.database import DatabaseDocument
from tests.support.documents import GOOD_DB, _col, good_db

REQUIRED_ENTITIES = ("member", "board", "post", "comment", "vote")


def _variant(change: Callable[[dict[str, Any]], None]) -> DatabaseDocument:
    data = copy.deepcopy(GOOD_DB)
    change(data)
    return DatabaseDocument.model_validate(data)


def _tables(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for f in data["files"] for t in f["tables"]]


def _points(dims: list[Dimension]) -> dict[str, float]:
    return {d.name: d.points for d in dims}


def test_good_design_scores_high_and_sums_to_axis() -> None:
    dims = score_database(good_db(), REQUIRED_ENTITIES)
    assert sum(d.max_points for d in dims) == pytest.approx(AXIS_POINTS["database"])
    assert {d.name for d in dims} == {"entity_coverage", "relations", "indexes", "column_types", "naming"}
    for dim in dims:
        assert dim.fraction == pytest.approx(1.0), (dim.name, dim.detail)


def test_ddl_really_runs_with_foreign_keys() -> None:
    result = probe(good_db())
    assert result.statements_ok == result.statements, result.errors
    assert result.row_graph_ok and result.fk_checked and result.fk_enforced
    con = sqlite3.connect(":memory:")
    con.executescript(render_ddl(good_db()))
    fks = con.execute("PRAGMA foreign_key_list(posts)").fetchall()
    assert {row[2] for row in fks} == {"boards", "members"}


def _break_plural(data: dict[str, Any]) -> None:
    data["files"][1]["tables"][1]["name"] = "post"
    for table in _tables(data):
        for fk in table["foreignKeys"]:
            if fk["targetTable"] == "posts":
                fk["targetTable"] = "post"


def _drop_fk_indexes(data: dict[str, Any]) -> None:
    for table in _tables(data):
        table["plainIndexes"] = []


def _duplicate_indexes(data: dict[str, Any]) -> None:
    posts = _tables(data)[3]
    # board_id alone is a prefix of (board_id, created_at); an index on the primary key adds nothing.
    posts["plainIndexes"] += [{"columns": ["board_id"]}, {"columns": ["id"]}]


def _plain_uuid_instead_of_fk(data: dict[str, Any]) -> None:
    comments = _tables(data)[5]
    comments["foreignKeys"] = [fk for fk in comments["foreignKeys"] if fk["name"] != "post_id"]
    comments["columns"].append(_col("post_id", "uuid"))


def _wrong_types(data: dict[str, Any]) -> None:
    posts = _tables(data)[3]
    for col in posts["columns"]:
        col["type"] = "string"


def _missing_entities(data: dict[str, Any]) -> None:
    data["files"][1]["tables"] = [t for t in data["files"][1]["tables"] if t["name"] not in ("post_votes",)]


def _isolated_tables(data: dict[str, Any]) -> None:
    for table in _tables(data):
        table["foreignKeys"] = []
        table["plainIndexes"] = []


BROKEN = {
    "naming": _break_plural,
    "indexes": _drop_fk_indexes,
    "relations": _isolated_tables,
    "column_types": _wrong_types,
    "entity_coverage": _missing_entities,
}


@pytest.mark.parametrize("dimension", sorted(BROKEN))
def test_each_broken_variant_loses_on_its_dimension(dimension: str) -> None:
    good = _points(score_database(good_db(), REQUIRED_ENTITIES))
    broken = _points(score_database(_variant(BROKEN[dimension]), REQUIRED_ENTITIES))
    assert broken[dimension] < good[dimension]
    assert sum(broken.values()) < sum(good.values())


def test_duplicate_and_pk_indexes_are_redundant() -> None:
    dims = {d.name: d for d in score_database(_variant(_duplicate_indexes))}
    assert dims["indexes"].fraction < 1.0
    assert "redundant" in dims["indexes"].detail


def test_plain_uuid_column_is_a_missing_foreign_key() -> None:
    dims = {d.name: d for d in score_database(_variant(_plain_uuid_instead_of_fk))}
    assert dims["relations"].fraction < 1.0
    assert "comments.post_id" in dims["relations"].detail


def test_dangling_reference_fails_the_gate_because_the_ddl_is_unusable() -> None:
    data = copy.deepcopy(GOOD_DB)
    _tables(data)[3]["foreignKeys"][0]["targetTable"] = "forums"
    doc = DatabaseDocument.model_validate(data)
    dims = score_database(doc, REQUIRED_ENTITIES)
    assert sum(d.points for d in dims) == 0
    assert all(d.detail.startswith("gate failed") and "SQLite" in d.detail for d in dims)
    assert probe(doc).row_graph_ok is False


def test_missing_document_scores_zero_with_full_weights() -> None:
    dims = score_database(None, REQUIRED_ENTITIES)
    assert sum(d.points for d in dims) == 0
    assert sum(d.max_points for d in dims) == pytest.approx(AXIS_POINTS["database"])


def test_without_required_entities_coverage_is_left_out() -> None:
    dims = score_database(good_db())
    assert "entity_coverage" not in {d.name for d in dims}
    assert sum(d.max_points for d in dims) == pytest.approx(AXIS_POINTS["database"])


def test_a_missing_required_table_costs_every_per_table_dimension() -> None:
    good = _points(score_database(good_db(), REQUIRED_ENTITIES))
    fewer = _points(score_database(good_db(), (*REQUIRED_ENTITIES, "moderation_flags")))
    for name in ("entity_coverage", "relations", "indexes", "column_types", "naming"):
        assert fewer[name] < good[name], name


def test_extra_tables_cost_points_when_faulty_and_earn_none() -> None:
    def extra(name: str) -> Callable[[dict[str, Any]], None]:
        def change(data: dict[str, Any]) -> None:
            table = copy.deepcopy(_tables(data)[3])
            table["name"] = name
            data["files"][1]["tables"].append(table)

        return change

    good = _points(score_database(good_db(), REQUIRED_ENTITIES))
    assert _points(score_database(_variant(extra("drafts")), REQUIRED_ENTITIES)) == good
    faulty = _points(score_database(_variant(extra("draft")), REQUIRED_ENTITIES))  # not plural
    assert faulty["naming"] < good["naming"]


def test_time_of_day_may_be_a_string_and_created_at_is_not_required() -> None:
    def change(data: dict[str, Any]) -> None:
        boards = _tables(data)[2]
        boards["columns"] = [c for c in boards["columns"] if c["name"] != "created_at"]
        boards["columns"].append(_col("opens_time", "string"))

    dims = {d.name: d for d in score_database(_variant(change), REQUIRED_ENTITIES)}
    assert dims["column_types"].fraction == 1.0, dims["column_types"].detail


def test_deterministic() -> None:
    doc = _variant(_plain_uuid_instead_of_fk)
    assert score_database(doc, REQUIRED_ENTITIES) == score_database(doc, REQUIRED_ENTITIES)


def test_link_table_without_a_unique_pair_loses_index_points() -> None:
    def change(data: dict[str, Any]) -> None:
        votes = _tables(data)[6]
        votes["uniqueIndexes"] = []
        votes["plainIndexes"] = [{"columns": ["post_id"]}, {"columns": ["member_id"]}]

    dims = {d.name: d for d in score_database(_variant(change))}
    assert dims["indexes"].fraction < 1.0
    assert "post_votes lets the same pair be stored twice" in dims["indexes"].detail


@pytest.mark.parametrize(
    ("word", "plural"),
    [("categories", True), ("boxes", True), ("statuses", True), ("people", True), ("data", True),
     ("user", False), ("status", False), ("address", False), ("todo", False)],
)  # fmt: skip
def test_plural_rules(word: str, plural: bool) -> None:
    from runner.schemas.inflection import is_plural

    assert is_plural(word) is plural
