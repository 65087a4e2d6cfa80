"""Analyze phase rules: unique names and ids, features by declared actors."""

from __future__ import annotations

from typing import Any

from runner.schemas.analyze import AnalyzeDocument
from runner.schemas.checks import duplicates, suggest
from runner.schemas.context import ValidationContext
from runner.schemas.feedback import PlacedError, placed


def check_analyze(doc: AnalyzeDocument, data: Any, context: ValidationContext) -> list[PlacedError]:
    errors = [
        *duplicates(data, ("actors",), doc.actors, lambda a: a.name, "name", "actor name"),
        *duplicates(data, ("entities",), doc.entities, lambda e: e.name, "name", "entity name"),
        *duplicates(data, ("features",), doc.features, lambda f: f.id, "id", "feature id"),
        *duplicates(data, ("rules",), doc.rules, lambda r: r.id, "id", "rule id"),
    ]
    actors = {a.name for a in doc.actors}
    for i, feature in enumerate(doc.features):
        if feature.actor not in actors:
            errors.append(
                placed(
                    data,
                    ("features", i, "actor"),
                    "unknown_reference",
                    f"a declared actor ({suggest(feature.actor, actors)})",
                    "Use the name of an actor from `actors`, or declare this actor.",
                )
            )
    return errors
