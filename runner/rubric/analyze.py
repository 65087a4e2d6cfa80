"""The analysis axis of the rubric (10 points): does the requirements analysis name the project's
entities and describe its capabilities?

Matching is lenient on purpose (singular or plural, snake_case or words, verb synonyms) because the
analysis is prose-like; the database and interface axes check coverage strictly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from runner.rubric.types import Checklist, Dimension, gate_dimensions, scaled_dimensions
from runner.schemas.analyze import AnalyzeDocument
from runner.schemas.inflection import singular

AXIS = "analysis"
WEIGHTS = {"entity_coverage": 5.0, "feature_coverage": 5.0}

_SYNONYMS = """
create: create add register post submit book new write make start issue
list: list browse search see view read show index find
get: get see view read show open detail
update: update edit change modify mark rename approve reject set move
delete: delete remove cancel erase withdraw
"""
VERB_SYNONYMS: dict[str, tuple[str, ...]] = {
    verb: tuple(rest.split())
    for verb, _, rest in (line.partition(":") for line in _SYNONYMS.strip().splitlines())
}


def words(text: str) -> set[str]:
    """Singular words of a text, splitting snake_case and camelCase."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    return {singular(w) for w in re.findall(r"[A-Za-z]+", spaced)}


def entity_words(table: str) -> set[str]:
    """`todo_lists` -> {"todo", "list"}."""
    return {singular(part) for part in table.split("_") if part}


def covers_entity(known: Iterable[str], table: str) -> bool:
    """Whether any known name (snake_case, singular or plural) names the table's entity."""
    wanted = entity_words(table)
    return any(entity_words(name) == wanted or singular(name) == singular(table) for name in known)


def covers_capability(texts: Iterable[str], capability: str) -> bool:
    """Whether one of the texts names the capability's verb (or a synonym) and all words of its table."""
    verb, _, table = capability.partition(" ")
    verbs = {singular(v) for v in VERB_SYNONYMS.get(verb, (verb,))}
    wanted = entity_words(table)
    for text in texts:
        found = words(text)
        if verbs & found and wanted <= found:
            return True
    return False


def score_analysis(
    doc: AnalyzeDocument | None, entities: Sequence[str], capabilities: Sequence[str]
) -> list[Dimension]:
    """entity_coverage: the required entities named as entities; feature_coverage: the capabilities
    described by some feature. A missing (failed) analysis scores 0; a dimension the project asks nothing
    of is left out (the other takes its points)."""
    weights = {k: w for k, w in WEIGHTS.items() if (entities if k == "entity_coverage" else capabilities)}
    if not weights:
        return gate_dimensions(AXIS, WEIGHTS, "no project requirements to check the analysis against")
    if doc is None:
        return gate_dimensions(AXIS, weights, "analysis missing or invalid")
    names = [e.name for e in doc.entities]
    feature_texts = [f.description for f in doc.features]
    entity_checks = Checklist("required entities named")
    for entity in entities:
        entity_checks.check(covers_entity(names, entity), f"no entity for {entity}")
    feature_checks = Checklist("required capabilities described")
    for capability in capabilities:
        feature_checks.check(covers_capability(feature_texts, capability), f"no feature to {capability}")
    results = {"entity_coverage": entity_checks.result(), "feature_coverage": feature_checks.result()}
    return scaled_dimensions(AXIS, weights, {k: results[k] for k in weights})
