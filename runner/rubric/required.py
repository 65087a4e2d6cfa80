"""What a project asks for, found in a model's documents: the table that stands for each required entity,
and the operations that serve each required capability ("<verb> <table>").

Every v2 ratio is taken over these requirements (see `runner.rubric.types.over_required`): a required
entity without a table, or a capability without an operation, is a missing part that counts 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from runner.rubric import names
from runner.rubric.operations import capability_served
from runner.schemas.interface import Operation


def entity_match(entity: str, table_names: Iterable[str]) -> tuple[str | None, float]:
    """(best table, credit): 1 when a table's name ends with all the entity's words (synonyms and app
    prefixes allowed: `todo_app_members` for "users"), 0.5 when it shares only the last word
    (`doctor_slots` for "availability_slots"), (None, 0) when no table stands for it."""
    entity_key = names.key(entity)
    best, best_overlap = None, 0
    for table in table_names:
        overlap = names.suffix_overlap(entity_key, names.key(table))
        if overlap > best_overlap:
            best, best_overlap = table, overlap
    if best is None or not entity_key:
        return None, 0.0
    return best, 1.0 if best_overlap >= len(entity_key) else 0.5


def missing_entities(required: Sequence[str], table_names: Sequence[str]) -> list[str]:
    """Required entities that no table stands for, not even partly."""
    return [e for e in required if entity_match(e, table_names)[0] is None]


def capability_object(capability: str) -> str:
    """ "create todo_lists" -> "todo_lists"."""
    return capability.strip().partition(" ")[2]


def serving(capability: str, operations: Sequence[Operation]) -> list[Operation]:
    return [op for op in operations if capability_served(capability, op)]


def required_objects(capabilities: Sequence[str]) -> list[str]:
    """The tables the capabilities act on, in order, once each."""
    return list(dict.fromkeys(capability_object(c) for c in capabilities))
