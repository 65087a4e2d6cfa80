"""Leaf expressions of the test phase: literals, identifiers and random-data generators. They hold no
sub-expressions, so they live apart from the recursive union in `runner.schemas.testlogic`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from runner.schemas.base import DESCRIPTION_MAX, IDENTIFIER, NAME_MAX, TITLE_MAX, AstModel
from runner.schemas.interface import StringFormat


def kind_field() -> Any:
    return Field(description="Node kind.")


def ident_field(what: str) -> Any:
    return Field(pattern=IDENTIFIER, max_length=NAME_MAX, description=what)


class BooleanLiteral(AstModel):
    kind: Literal["booleanLiteral"] = kind_field()
    value: bool = Field(description="true or false.")


class NumericLiteral(AstModel):
    kind: Literal["numericLiteral"] = kind_field()
    value: float = Field(description="A number.")


class StringLiteral(AstModel):
    kind: Literal["stringLiteral"] = kind_field()
    value: str = Field(max_length=DESCRIPTION_MAX, description="The text.")


class NullLiteral(AstModel):
    kind: Literal["nullLiteral"] = kind_field()


class UndefinedKeyword(AstModel):
    kind: Literal["undefinedKeyword"] = kind_field()


class Identifier(AstModel):
    """A declared variable, a parameter, or a global such as Date."""

    kind: Literal["identifier"] = kind_field()
    name: str = ident_field("Variable name.")


class BooleanRandom(AstModel):
    kind: Literal["booleanRandom"] = kind_field()
    probability: float | None = Field(default=None, ge=0, le=1, description="Chance of true (0.5 if null).")


class IntegerRandom(AstModel):
    kind: Literal["integerRandom"] = kind_field()
    minimum: int | None = Field(default=None, description="Smallest value.")
    maximum: int | None = Field(default=None, description="Largest value.")


class NumberRandom(AstModel):
    kind: Literal["numberRandom"] = kind_field()
    minimum: float | None = Field(default=None, description="Smallest value.")
    maximum: float | None = Field(default=None, description="Largest value.")


class StringRandom(AstModel):
    kind: Literal["stringRandom"] = kind_field()
    min_length: int | None = Field(default=None, ge=0, description="Fewest characters.")
    max_length: int | None = Field(default=None, ge=0, description="Most characters.")


class PatternRandom(AstModel):
    kind: Literal["patternRandom"] = kind_field()
    pattern: str = Field(min_length=1, max_length=TITLE_MAX, description="Regular expression to match.")


class FormatRandom(AstModel):
    kind: Literal["formatRandom"] = kind_field()
    format: StringFormat = Field(description="String format, e.g. uuid, email.")


class KeywordRandom(AstModel):
    kind: Literal["keywordRandom"] = kind_field()
    keyword: Literal["alphabets", "alphaNumeric", "name", "mobile", "paragraph", "content"] = Field(
        description="Kind of random text."
    )
