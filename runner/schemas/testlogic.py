"""Test phase AST: end-to-end test functions as statement lists over a recursive expression union.

Statements (`kind`): apiCall, expression, if, variableDeclaration, return, throw. `if` has `then` and
`else` statement lists (`else` empty for none; one `if` inside `else` is an else-if).
Expressions (`kind`, 36 of them):
- literals: booleanLiteral, numericLiteral, stringLiteral, nullLiteral, undefinedKeyword, arrayLiteral,
  objectLiteral;
- access: identifier, propertyAccess, elementAccess;
- operators: typeOf, prefixUnary, postfixUnary, binary, conditional;
- functions: arrowFunction (parameters + statements: the recursion into blocks), call, new;
- array helpers: arrayFilter, arrayForEach, arrayMap, arrayRepeat (each takes an arrowFunction);
- random data: pickRandom, sampleRandom, booleanRandom, integerRandom, numberRandom, stringRandom,
  patternRandom, formatRandom, keywordRandom;
- predicates (assertions): equalPredicate, notEqualPredicate, conditionalPredicate, errorPredicate,
  httpErrorPredicate.
Leaf kinds (literals, identifier, random generators) live in `runner.schemas.testleaves` and are
re-exported here; `EXPRESSION_TYPES`/`EXPRESSION_KINDS` and `STATEMENT_TYPES`/`STATEMENT_KINDS` list them all.
Depth: an expression's depth is 1 + its parent expression's depth (statements in between do not count),
capped by `TestDocument.MAX_EXPRESSION_DEPTH`; nested blocks (if branches, arrow bodies) are capped by
`MAX_BLOCK_DEPTH`. Semantic rules (`runner.schemas.checks.testlogic`): function names unique, identifiers
declared before use (or in `GLOBALS`), no redeclaration in one block, `++`/`--` only on mutable
variables, and — given the interface — every apiCall hits an existing operation with matching path
parameters and body."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import Field

from runner.schemas.base import DESCRIPTION_MAX, IDENTIFIER, NAME_MAX, TITLE_MAX, AstModel
from runner.schemas.interface import PATH_PATTERN, HttpMethod
from runner.schemas.testleaves import (
    BooleanLiteral,
    BooleanRandom,
    FormatRandom,
    Identifier,
    IntegerRandom,
    KeywordRandom,
    NullLiteral,
    NumberRandom,
    NumericLiteral,
    PatternRandom,
    StringLiteral,
    StringRandom,
    UndefinedKeyword,
    ident_field,
    kind_field,
)

MAX_FUNCTIONS = 64
MAX_STATEMENTS = 48
MAX_ELEMENTS = 24
MAX_ARGUMENTS = 8
MAX_PARAMETERS = 4

# Names a test may use without declaring them.
GLOBALS = frozenset(
    {"Math", "Date", "JSON", "Number", "String", "Boolean", "Array", "Object", "Error", "RegExp", "Set", "Map"}
)  # fmt: skip


def _expr(what: str) -> Any:
    return Field(description=what)


def _title() -> Any:
    return Field(min_length=1, max_length=TITLE_MAX, description="What is asserted, shown on failure.")


class ArrayLiteral(AstModel):
    kind: Literal["arrayLiteral"] = kind_field()
    elements: list[Expression] = Field(max_length=MAX_ELEMENTS, description="Element values.")


class PropertyAssignment(AstModel):
    """`name: value` inside an object literal or an API call's path parameters."""

    name: str = ident_field("Property name.")
    value: Expression = _expr("Property value.")


class ObjectLiteral(AstModel):
    kind: Literal["objectLiteral"] = kind_field()
    properties: list[PropertyAssignment] = Field(max_length=MAX_ELEMENTS, description="Properties in order.")


class PropertyAccess(AstModel):
    """`expression.name` (`expression?.name` when optional)."""

    kind: Literal["propertyAccess"] = kind_field()
    expression: Expression = _expr("Object to read from.")
    name: str = ident_field("Property name.")
    optional: bool = Field(default=False, description="true for ?. access.")


class ElementAccess(AstModel):
    """`expression[index]`."""

    kind: Literal["elementAccess"] = kind_field()
    expression: Expression = _expr("Array or object.")
    index: Expression = _expr("Index or key.")
    optional: bool = Field(default=False, description="true for ?.[] access.")


class TypeOf(AstModel):
    kind: Literal["typeOf"] = kind_field()
    expression: Expression = _expr("Value whose type name is taken.")


class PrefixUnary(AstModel):
    kind: Literal["prefixUnary"] = kind_field()
    operator: Literal["!", "-", "+", "++", "--"] = Field(description="Operator before the operand.")
    operand: Expression = _expr("Operand; ++/-- need a mutable variable.")


class PostfixUnary(AstModel):
    kind: Literal["postfixUnary"] = kind_field()
    operator: Literal["++", "--"] = Field(description="Operator after the operand.")
    operand: Expression = _expr("A mutable variable.")


BinaryOperator = Literal[
    "===", "!==", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "&&", "||", "??", "instanceof"
]


class Binary(AstModel):
    kind: Literal["binary"] = kind_field()
    left: Expression = _expr("Left operand.")
    operator: BinaryOperator = Field(description="Operator.")
    right: Expression = _expr("Right operand.")


class Conditional(AstModel):
    """`condition ? whenTrue : whenFalse`."""

    kind: Literal["conditional"] = kind_field()
    condition: Expression = _expr("Test.")
    when_true: Expression = _expr("Value if true.")
    when_false: Expression = _expr("Value if false.")


class ArrowFunction(AstModel):
    """`(parameters) => { statements }`."""

    kind: Literal["arrowFunction"] = kind_field()
    parameters: list[Annotated[str, Field(pattern=IDENTIFIER, max_length=NAME_MAX)]] = Field(
        max_length=MAX_PARAMETERS, description="Parameter names."
    )
    statements: list[Statement] = Field(min_length=1, max_length=MAX_STATEMENTS, description="Body.")


class Call(AstModel):
    kind: Literal["call"] = kind_field()
    expression: Expression = _expr("Function to call, e.g. propertyAccess Math.max.")
    arguments: list[Expression] = Field(max_length=MAX_ARGUMENTS, description="Arguments.")


class New(AstModel):
    kind: Literal["new"] = kind_field()
    expression: Expression = _expr("Class, e.g. identifier Date.")
    arguments: list[Expression] = Field(max_length=MAX_ARGUMENTS, description="Constructor arguments.")


class ArrayFilter(AstModel):
    kind: Literal["arrayFilter"] = kind_field()
    array: Expression = _expr("Array to filter.")
    function: ArrowFunction = Field(description="(element) => keep?")


class ArrayForEach(AstModel):
    kind: Literal["arrayForEach"] = kind_field()
    array: Expression = _expr("Array to visit.")
    function: ArrowFunction = Field(description="(element) => { ... }")


class ArrayMap(AstModel):
    kind: Literal["arrayMap"] = kind_field()
    array: Expression = _expr("Array to transform.")
    function: ArrowFunction = Field(description="(element) => new element")


class ArrayRepeat(AstModel):
    """An array of `count` results of `function(index)`."""

    kind: Literal["arrayRepeat"] = kind_field()
    count: Expression = _expr("How many elements.")
    function: ArrowFunction = Field(description="(index) => element")


class PickRandom(AstModel):
    kind: Literal["pickRandom"] = kind_field()
    array: Expression = _expr("Array to pick one element of.")


class SampleRandom(AstModel):
    kind: Literal["sampleRandom"] = kind_field()
    array: Expression = _expr("Array to sample from.")
    count: Expression = _expr("How many distinct elements.")


class EqualPredicate(AstModel):
    """Assert expected === actual (deep)."""

    kind: Literal["equalPredicate"] = kind_field()
    title: str = _title()
    expected: Expression = _expr("Expected value.")
    actual: Expression = _expr("Actual value.")


class NotEqualPredicate(AstModel):
    kind: Literal["notEqualPredicate"] = kind_field()
    title: str = _title()
    expected: Expression = _expr("Value it must differ from.")
    actual: Expression = _expr("Actual value.")


class ConditionalPredicate(AstModel):
    kind: Literal["conditionalPredicate"] = kind_field()
    title: str = _title()
    condition: Expression = _expr("Must be true.")


class ErrorPredicate(AstModel):
    kind: Literal["errorPredicate"] = kind_field()
    title: str = _title()
    function: ArrowFunction = Field(description="Must throw.")


class HttpErrorPredicate(AstModel):
    kind: Literal["httpErrorPredicate"] = kind_field()
    title: str = _title()
    status: int = Field(ge=400, le=599, description="Expected HTTP status, e.g. 404.")
    function: ArrowFunction = Field(description="Must fail with that status.")


# fmt: off
Expression = Annotated[
    BooleanLiteral | NumericLiteral | StringLiteral | NullLiteral | UndefinedKeyword | ArrayLiteral
    | ObjectLiteral | Identifier | PropertyAccess | ElementAccess | TypeOf | PrefixUnary | PostfixUnary
    | Binary | Conditional | ArrowFunction | Call | New | ArrayFilter | ArrayForEach | ArrayMap | ArrayRepeat
    | PickRandom | SampleRandom | BooleanRandom | IntegerRandom | NumberRandom | StringRandom | PatternRandom
    | FormatRandom | KeywordRandom | EqualPredicate | NotEqualPredicate | ConditionalPredicate
    | ErrorPredicate | HttpErrorPredicate,
    Field(discriminator="kind"),
]
# fmt: on


class ApiCall(AstModel):
    """Call an operation of the interface; optionally keep its response in a new variable."""

    kind: Literal["apiCall"] = kind_field()
    method: HttpMethod = Field(description="Operation method.")
    path: str = Field(
        pattern=PATH_PATTERN, max_length=200, description="Operation path, as the interface writes it."
    )
    parameters: list[PropertyAssignment] = Field(
        max_length=MAX_ARGUMENTS, description="One value per {name} in path."
    )
    body: Expression | None = Field(description="Request body, or null if the operation has none.")
    variable: str | None = Field(
        pattern=IDENTIFIER, max_length=NAME_MAX, description="New variable for the response, or null."
    )


class ExpressionStatement(AstModel):
    kind: Literal["expression"] = kind_field()
    expression: Expression = _expr("Evaluated for its effect, e.g. a predicate.")


class IfStatement(AstModel):
    kind: Literal["if"] = kind_field()
    condition: Expression = _expr("Test.")
    then_statements: list[Statement] = Field(
        alias="then", min_length=1, max_length=MAX_STATEMENTS, description="Run when true."
    )
    else_statements: list[Statement] = Field(
        alias="else",
        max_length=MAX_STATEMENTS,
        description="Run when false; [] for none, one if for else-if.",
    )


class VariableDeclaration(AstModel):
    kind: Literal["variableDeclaration"] = kind_field()
    name: str = ident_field("New variable name.")
    mutable: bool = Field(description="true for let (may change), false for const.")
    value: Expression = _expr("Initial value.")


class Return(AstModel):
    kind: Literal["return"] = kind_field()
    value: Expression | None = Field(description="Returned value, or null.")


class Throw(AstModel):
    kind: Literal["throw"] = kind_field()
    value: Expression = _expr("Error to throw, e.g. new Error(...).")


Statement = Annotated[
    ApiCall | ExpressionStatement | IfStatement | VariableDeclaration | Return | Throw,
    Field(discriminator="kind"),
]


class TestFunction(AstModel):
    """One end-to-end test: a scenario written as statements."""

    __test__: ClassVar[bool] = False  # not a pytest test class

    name: str = Field(
        pattern=r"^test_[a-z0-9_]+$",
        max_length=NAME_MAX,
        description="test_ then snake_case words saying what it checks.",
    )
    scenario: str = Field(max_length=DESCRIPTION_MAX, description="What the test does and checks.")
    statements: list[Statement] = Field(min_length=1, max_length=MAX_STATEMENTS, description="Test body.")


class TestDocument(AstModel):
    """All end-to-end tests."""

    __test__: ClassVar[bool] = False

    MAX_EXPRESSION_DEPTH: ClassVar[int] = 10
    MAX_BLOCK_DEPTH: ClassVar[int] = 3

    functions: list[TestFunction] = Field(
        min_length=1, max_length=MAX_FUNCTIONS, description="Test functions."
    )


EXPRESSION_TYPES: tuple[type[AstModel], ...] = get_args(get_args(Expression)[0])
STATEMENT_TYPES: tuple[type[AstModel], ...] = get_args(get_args(Statement)[0])
EXPRESSION_KINDS: tuple[str, ...] = tuple(
    get_args(c.model_fields["kind"].annotation)[0] for c in EXPRESSION_TYPES
)
STATEMENT_KINDS: tuple[str, ...] = tuple(
    get_args(c.model_fields["kind"].annotation)[0] for c in STATEMENT_TYPES
)

for _model in [*AstModel.__subclasses__()]:
    if _model.__module__ == __name__:
        _model.model_rebuild()
