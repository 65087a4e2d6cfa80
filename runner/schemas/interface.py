"""Interface phase AST: operations plus named component schemas in a recursive JSON-schema union.

`JsonSchema` is one of const, boolean, integer, number, string (with format), array (items), reference
(`$ref` "#/components/schemas/Name"), oneOf (whose variants are never oneOf) and null. Objects appear only
as named components (`Component.schema`); a nested object is a `$ref` to another component. Variants
without a `type` key (const, `$ref`, oneOf) are told apart by `schema_tag`, a callable discriminator.
Recursion goes through array items, object properties and oneOf variants; `InterfaceDocument.MAX_SCHEMA_DEPTH`
caps it. Semantic rules live in `runner.schemas.checks.interface`."""

from __future__ import annotations

import warnings
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Discriminator, Field, StringConstraints, Tag

from runner.schemas.base import CAMEL_CASE, COMPONENT_NAME, DESCRIPTION_MAX, NAME_MAX, AstModel

HttpMethod = Literal["get", "post", "put", "patch", "delete"]
StringFormat = Literal["uuid", "date-time", "date", "time", "email", "uri", "password"]

MAX_OPERATIONS = 128
MAX_COMPONENTS = 256
MAX_PROPERTIES = 48
MAX_ONE_OF = 8
MAX_PATH_PARAMETERS = 6
REF_PREFIX = "#/components/schemas/"
PATH_PATTERN = r"^(/([A-Za-z0-9][A-Za-z0-9_-]*|\{[a-z][A-Za-z0-9]*\}))+$"
PROPERTY_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


def _description(required: bool = False) -> Any:
    if required:
        return Field(max_length=DESCRIPTION_MAX, description="What it means.")
    return Field(default="", max_length=DESCRIPTION_MAX, description="What it means.")


class ConstSchema(AstModel):
    """A single allowed value."""

    const: str | int | float | bool = Field(description="The only allowed value.")
    description: str = _description()


class BooleanSchema(AstModel):
    type: Literal["boolean"] = Field(description="true or false.")
    description: str = _description()


class IntegerSchema(AstModel):
    type: Literal["integer"] = Field(description="A whole number.")
    minimum: int | None = Field(default=None, description="Smallest allowed value.")
    maximum: int | None = Field(default=None, description="Largest allowed value.")
    description: str = _description()


class NumberSchema(AstModel):
    type: Literal["number"] = Field(description="A decimal number.")
    minimum: float | None = Field(default=None, description="Smallest allowed value.")
    maximum: float | None = Field(default=None, description="Largest allowed value.")
    description: str = _description()


class StringSchema(AstModel):
    type: Literal["string"] = Field(description="Text.")
    format: StringFormat | None = Field(default=None, description="Well-known format, e.g. uuid, date-time.")
    min_length: int | None = Field(default=None, ge=0, description="Fewest characters.")
    max_length: int | None = Field(default=None, ge=0, description="Most characters.")
    description: str = _description()


class ArraySchema(AstModel):
    type: Literal["array"] = Field(description="A list.")
    items: JsonSchema = Field(description="Schema of every element.")
    description: str = _description()


class ReferenceSchema(AstModel):
    ref: str = Field(
        alias="$ref",
        pattern=r"^#/components/schemas/[A-Z][A-Za-z0-9]*(\.[A-Z][A-Za-z0-9]*)*$",
        max_length=NAME_MAX + len(REF_PREFIX),
        description="#/components/schemas/ + a component name; how objects nest.",
    )
    description: str = _description()

    @property
    def component_name(self) -> str:
        return self.ref.removeprefix(REF_PREFIX)


class NullSchema(AstModel):
    type: Literal["null"] = Field(description="The null value (combine with oneOf for nullable).")
    description: str = _description()


class OneOfSchema(AstModel):
    one_of: list[OneOfVariant] = Field(
        alias="oneOf", min_length=2, max_length=MAX_ONE_OF, description="Alternatives; never a nested oneOf."
    )
    description: str = _description()


def schema_tag(value: Any) -> str | None:
    """Which JsonSchema variant a raw value (dict) or a model instance is."""
    if isinstance(value, dict):
        for key, tag in (("$ref", "reference"), ("oneOf", "oneOf"), ("const", "const")):
            if key in value:
                return tag
        kind = value.get("type")
        return kind if isinstance(kind, str) else None
    for cls, tag in _TAG_OF_CLASS.items():
        if isinstance(value, cls):
            return tag
    return None


_TAG_OF_CLASS: dict[type, str] = {
    ConstSchema: "const",
    BooleanSchema: "boolean",
    IntegerSchema: "integer",
    NumberSchema: "number",
    StringSchema: "string",
    ArraySchema: "array",
    ReferenceSchema: "reference",
    NullSchema: "null",
    OneOfSchema: "oneOf",
}

_Const = Annotated[ConstSchema, Tag("const")]
_Boolean = Annotated[BooleanSchema, Tag("boolean")]
_Integer = Annotated[IntegerSchema, Tag("integer")]
_Number = Annotated[NumberSchema, Tag("number")]
_String = Annotated[StringSchema, Tag("string")]
_Array = Annotated[ArraySchema, Tag("array")]
_Reference = Annotated[ReferenceSchema, Tag("reference")]
_Null = Annotated[NullSchema, Tag("null")]
_OneOf = Annotated[OneOfSchema, Tag("oneOf")]

OneOfVariant = Annotated[
    _Const | _Boolean | _Integer | _Number | _String | _Array | _Reference | _Null,
    Discriminator(schema_tag),
]
JsonSchema = Annotated[
    _Const | _Boolean | _Integer | _Number | _String | _Array | _Reference | _Null | _OneOf,
    Discriminator(schema_tag),
]
PropertyName = Annotated[str, StringConstraints(pattern=PROPERTY_NAME, max_length=NAME_MAX)]


class ObjectSchema(AstModel):
    """The body of a named component: an object with typed properties."""

    type: Literal["object"] = Field(description="Always object.")
    properties: dict[PropertyName, JsonSchema] = Field(
        max_length=MAX_PROPERTIES, description="Property name -> schema. Nested objects: use $ref."
    )
    required: list[str] = Field(
        max_length=MAX_PROPERTIES, description="Names of properties that must be present."
    )
    description: str = _description(required=True)


# A field called `schema` shadows the deprecated BaseModel.schema(); the JSON key is part of the contract.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*shadows an attribute.*")

    class Component(AstModel):
        """A named type: I<Entity>, I<Entity>.ICreate (request body), I<Entity>.ISummary (<Entity> in PascalCase)."""

        name: str = Field(pattern=COMPONENT_NAME, max_length=NAME_MAX, description="PascalCase type name.")
        description: str = _description(required=True)
        schema: ObjectSchema = Field(description="The object schema of this type.")  # type: ignore[assignment]

    class UuidParameterSchema(AstModel):
        type: Literal["string"] = Field(description="A uuid string.")
        format: Literal["uuid"] = Field(description="Always uuid.")

    class PathParameter(AstModel):
        """One `{name}` segment of the path."""

        name: str = Field(
            pattern=CAMEL_CASE, max_length=NAME_MAX, description="Name as in the path's {braces}."
        )
        description: str = _description(required=True)
        schema: UuidParameterSchema | IntegerSchema = Field(  # type: ignore[assignment]
            discriminator="type", description="uuid string or integer."
        )


class Operation(AstModel):
    """One HTTP endpoint."""

    path: str = Field(
        pattern=PATH_PATTERN,
        max_length=200,
        description="Plural kebab-case resources and {camelCase} parameters.",
    )
    method: HttpMethod = Field(description="HTTP method; search with a body uses patch.")
    name: str = Field(
        pattern=CAMEL_CASE,
        max_length=NAME_MAX,
        description="camelCase, e.g. create, at, index, update, erase.",
    )
    description: str = _description(required=True)
    path_parameters: list[PathParameter] = Field(
        max_length=MAX_PATH_PARAMETERS, description="One per {name} in path, same order."
    )
    request_body: str | None = Field(
        pattern=COMPONENT_NAME, max_length=NAME_MAX, description="Component name of the body, or null."
    )
    response_body: str | None = Field(
        pattern=COMPONENT_NAME, max_length=NAME_MAX, description="Component name returned, or null."
    )
    authorization_actor: str | None = Field(
        pattern=CAMEL_CASE,
        max_length=NAME_MAX,
        description="Actor name that must be logged in, or null for public.",
    )


class InterfaceDocument(AstModel):
    """The whole API design."""

    MAX_SCHEMA_DEPTH: ClassVar[int] = 4

    operations: list[Operation] = Field(min_length=1, max_length=MAX_OPERATIONS, description="All endpoints.")
    components: list[Component] = Field(max_length=MAX_COMPONENTS, description="All named types.")

    def component(self, name: str) -> Component | None:
        return next((c for c in self.components if c.name == name), None)


# The recursive unions are defined after the classes that use them; resolve those references now.
for _model in (
    ArraySchema,
    OneOfSchema,
    ObjectSchema,
    Component,
    PathParameter,
    Operation,
    InterfaceDocument,
):
    _model.model_rebuild()
