"""Shared base of every AST model: camelCase JSON keys, unknown keys rejected, and the caps.

Every cap is a plain constant so that it appears in the JSON Schema (`maxItems`, `maxLength`) and a
grammar engine can enforce it while decoding; recursion depth caps live on the document classes
(`MAX_*_DEPTH`) and are also checked by the semantic validators."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

# Text caps bound degenerate output (a model repeating itself) without cutting real prose.
NAME_MAX = 64
TITLE_MAX = 200
DESCRIPTION_MAX = 800

SNAKE_CASE = r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"
CAMEL_CASE = r"^[a-z][a-zA-Z0-9]*$"
IDENTIFIER = r"^[A-Za-z_$][A-Za-z0-9_$]*$"
# "IArticle", "IArticle.ICreate", "IPageIArticle.ISummary": PascalCase segments joined by dots.
COMPONENT_NAME = r"^[A-Z][A-Za-z0-9]*(\.[A-Z][A-Za-z0-9]*)*$"


class AstModel(BaseModel):
    """Base of all AST nodes. Python attributes are snake_case, JSON keys camelCase (dump with
    `by_alias=True`); unknown keys are errors so that a typo is reported, not silently dropped."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        use_attribute_docstrings=False,
    )


def child_nodes(node: AstModel) -> Iterator[tuple[tuple[str | int, ...], AstModel]]:
    """Direct AST children of a node with their JSON key suffix (aliases and list indices)."""
    for name, info in type(node).model_fields.items():
        key = info.alias or name
        value = getattr(node, name)
        if isinstance(value, AstModel):
            yield (key,), value
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, AstModel):
                    yield (key, i), item
        elif isinstance(value, dict):
            for k, item in value.items():
                if isinstance(item, AstModel):
                    yield (key, k), item


def iter_nodes(node: AstModel) -> Iterator[tuple[tuple[str | int, ...], AstModel]]:
    """Every node of an AST (the node itself first) with its JSON path segments from `node`, e.g. all
    `ApiCall` statements of a test document: `[n for _, n in iter_nodes(doc) if isinstance(n, ApiCall)]`."""
    stack: list[tuple[tuple[str | int, ...], AstModel]] = [((), node)]
    while stack:
        segs, current = stack.pop()
        yield segs, current
        children = [((*segs, *suffix), child) for suffix, child in child_nodes(current)]
        stack.extend(reversed(children))
