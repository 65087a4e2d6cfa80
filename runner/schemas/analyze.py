"""Analyze phase AST: the requirements as actors, entities, features and business rules.

Semantic rules (`runner.schemas.checks.analyze`): actor and entity names unique, feature and rule ids
unique, every feature's actor is a declared actor."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from runner.schemas.base import CAMEL_CASE, DESCRIPTION_MAX, NAME_MAX, SNAKE_CASE, AstModel

ActorKind = Literal["guest", "member", "admin"]
ITEM_ID = r"^[A-Z][A-Z0-9]*-?[0-9]+$"

MAX_ACTORS = 8
MAX_ENTITIES = 48
MAX_FEATURES = 96
MAX_RULES = 64


class Actor(AstModel):
    """A kind of user of the system."""

    name: str = Field(
        pattern=CAMEL_CASE,
        max_length=NAME_MAX,
        description="camelCase: a kind of user the requirements name.",
    )
    kind: ActorKind = Field(description="guest: anonymous; member: signed-in user; admin: operator.")
    description: str = Field(max_length=DESCRIPTION_MAX, description="Who they are and what they may do.")


class Entity(AstModel):
    """A business object the system stores."""

    name: str = Field(
        pattern=SNAKE_CASE,
        max_length=NAME_MAX,
        description="snake_case singular: a noun the requirements name.",
    )
    description: str = Field(max_length=DESCRIPTION_MAX, description="What it is and its key attributes.")


class Feature(AstModel):
    """Something an actor can do."""

    id: str = Field(pattern=ITEM_ID, max_length=16, description="Unique id, e.g. F1, F2.")
    actor: str = Field(pattern=CAMEL_CASE, max_length=NAME_MAX, description="Name of the actor who does it.")
    description: str = Field(
        max_length=DESCRIPTION_MAX, description="One capability: a verb and an entity of this project."
    )


class Rule(AstModel):
    """A business rule or constraint."""

    id: str = Field(pattern=ITEM_ID, max_length=16, description="Unique id, e.g. R1, R2.")
    description: str = Field(
        max_length=DESCRIPTION_MAX, description="The rule: a limit the requirements set on data or actions."
    )


class AnalyzeDocument(AstModel):
    """The requirements analysis."""

    actors: list[Actor] = Field(min_length=1, max_length=MAX_ACTORS, description="User kinds.")
    entities: list[Entity] = Field(
        min_length=1, max_length=MAX_ENTITIES, description="Stored business objects."
    )
    features: list[Feature] = Field(
        min_length=1, max_length=MAX_FEATURES, description="Capabilities per actor."
    )
    rules: list[Rule] = Field(max_length=MAX_RULES, description="Business rules.")
