"""One plural rule for the pipeline and the rubric: table names the pipeline makes are plural to the rubric,
and `singular` undoes `plural`."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runner.rubric.database import score_database
from runner.schemas.database import DatabaseDocument
from runner.schemas.inflection import EXCEPTIONS, is_plural, plural, singular

WORDS = [
    ("status", "statuses"), ("analysis", "analyses"), ("person", "people"), ("child", "children"),
    ("category", "categories"), ("address", "addresses"), ("bus", "buses"), ("box", "boxes"),
    ("leaf", "leaves"), ("series", "series"), ("data", "data"), ("staff", "staff"), ("news", "news"),
    ("todo", "todos"), ("order_item", "order_items"), ("class", "classes"), ("day", "days"),
    ("reply", "replies"), ("match", "matches"), ("wish", "wishes"), ("quiz", "quizzes"),
    ("campus", "campuses"), ("menu", "menus"), ("movie", "movies"), ("house", "houses"),
    ("warehouse", "warehouses"), ("cache", "caches"), ("size", "sizes"), ("hero", "heroes"),
    ("photo", "photos"), ("wiki", "wikis"), ("archive", "archives"), ("knife", "knives"),
    ("index", "indices"), ("criterion", "criteria"), ("crisis", "crises"), ("user_address", "user_addresses"),
    ("item2", "item2s"), ("gas", "gases"), ("alias", "aliases"), ("response", "responses"),
]  # fmt: skip


@pytest.mark.parametrize(("word", "table"), WORDS)
def test_plural_and_singular_agree(word: str, table: str) -> None:
    assert plural(word) == table
    assert is_plural(table)
    assert singular(table) == word
    assert plural(table) == table  # a plural name is kept as it is


@pytest.mark.parametrize("word", [w for w, table in WORDS if w != table])
def test_singular_words_are_not_plural(word: str) -> None:
    assert not is_plural(word)
    assert singular(word) == word


def test_exceptions_round_trip() -> None:
    for word, table in EXCEPTIONS.items():
        assert (plural(word), singular(table), is_plural(table)) == (table, word, True)
        assert not is_plural(word)


def test_singular_lowers_and_is_plural_reads_the_last_word() -> None:
    assert singular("Categories") == "category"
    assert is_plural("todo_list_items") and not is_plural("todo_items_list")


def _naming(table: str) -> tuple[float, str]:
    doc = DatabaseDocument.model_validate(
        {
            "files": [
                {
                    "filename": "schema-01-main.prisma",
                    "namespace": "Main",
                    "tables": [
                        {
                            "name": table,
                            "description": "One row.",
                            "stance": "primary",
                            "primaryKey": "id",
                            "foreignKeys": [],
                            "columns": [
                                {"name": "title", "type": "string", "nullable": False, "description": "T."}
                            ],
                            "uniqueIndexes": [],
                            "plainIndexes": [],
                        }
                    ],
                }
            ]
        }
    )
    naming = next(d for d in score_database(doc) if d.name == "naming")
    return naming.fraction, naming.detail


def test_the_rubric_sees_the_old_trouble_names_as_plural() -> None:
    assert _naming(plural("status")) == (1.0, "1/1 tables without fault")
    assert _naming("status")[1].endswith("table status is not plural")


ENTITY = st.from_regex(r"[a-z][a-z0-9]{0,15}(_[a-z][a-z0-9]{0,10}){0,2}", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(ENTITY)
def test_a_table_name_the_pipeline_forces_is_never_marked_not_plural(entity: str) -> None:
    table = plural(entity)
    fraction, detail = _naming(table)
    assert "not plural" not in detail and fraction == 1.0, (entity, table, detail)
