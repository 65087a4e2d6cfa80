"""Prompts: one fixed system prompt, and user prompts built from the tool's schema, the project, the
relevant earlier results (summarised in a line per item) and the task.

Prompts are short on purpose: the default model has an 8k context and 135M parameters. The order —
tool schema, project, context, task — keeps the longest shared prefix first, so consecutive calls of the
same tool reuse the backend's prompt cache.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from runner.projects import Project
from runner.run.plan import pascal
from runner.schemas.analyze import AnalyzeDocument
from runner.schemas.database import Table
from runner.schemas.inflection import singular
from runner.schemas.interface import Component, JsonSchema, Operation

SYSTEM = (
    "You are a senior backend engineer. Every request names one tool. Answer by calling it: output only "
    "the tool's arguments as one JSON object, with no prose and no code fences."
)
MAX_CONTEXT_LINES = 40


def user_prompt(tool: str, doc: str, project: Project, context: Sequence[tuple[str, str]], task: str) -> str:
    """`doc`: the tool's arguments as TypeScript declarations (`ToolSpec.doc`)."""
    blocks = [
        f"Tool `{tool}`. Its arguments (TypeScript notation):\n{doc}",
        f"Project: {project.title}\n{project.requirement_text}",
    ]
    blocks += [f"{title}:\n{text}" for title, text in context if text]
    blocks.append(f"Task: {task}")
    return "\n\n".join(blocks)


def example_path(tables: Sequence[Table]) -> str:
    """A path built from the project's own first table (`todo_items` -> /todo-items/{todoItemId}), or a
    placeholder that the path pattern rejects, so that a model copying it verbatim copies nothing foreign."""
    if not tables:
        return "/<table-name>/{<tableName>Id}"
    name = tables[0].name
    entity = pascal(singular(name))
    return f"/{name.replace('_', '-')}/{{{entity[:1].lower()}{entity[1:]}Id}}"


def endpoint_plan_task(tables: Sequence[Table]) -> str:
    """The interface phase's planning task, its example drawn from the project's own tables."""
    return (
        "List the REST endpoints the requirements need: for each table the create, list, read, update and "
        "delete endpoints that make sense. Paths are plural kebab-case with {camelCase} parameters, "
        f"like {example_path(tables)} for this project's first table."
    )


def _lines(items: Iterable[str], limit: int = MAX_CONTEXT_LINES) -> str:
    rows = list(items)
    extra = f"\n… and {len(rows) - limit} more" if len(rows) > limit else ""
    return "\n".join(rows[:limit]) + extra


def analysis_summary(doc: AnalyzeDocument | None) -> str:
    if doc is None:
        return ""
    actors = ", ".join(f"{a.name} ({a.kind})" for a in doc.actors)
    entities = ", ".join(e.name for e in doc.entities)
    features = (f"{f.id} {f.actor}: {f.description[:100]}" for f in doc.features)
    return f"Actors: {actors}\nEntities: {entities}\nFeatures:\n{_lines(features, 20)}"


def table_line(table: Table) -> str:
    keys = [f"{fk.name} -> {fk.target_table}" for fk in table.foreign_keys]
    columns = [f"{c.name} {c.type}{'?' if c.nullable else ''}" for c in table.columns]
    return f"{table.name}({', '.join([table.primary_key, *keys, *columns])})"


def tables_summary(tables: Sequence[Table]) -> str:
    return _lines(table_line(t) for t in tables)


def planned_tables_summary(names: Sequence[str], descriptions: dict[str, str]) -> str:
    return _lines(f"{n}: {descriptions.get(n, '')[:100]}".rstrip(": ") for n in names)


def operation_line(op: Operation) -> str:
    body = f" body {op.request_body}" if op.request_body else ""
    result = f" -> {op.response_body}" if op.response_body else ""
    who = f" [{op.authorization_actor}]" if op.authorization_actor else ""
    params = ", ".join(p.name for p in op.path_parameters)
    return f"{op.method} {op.path}{f' ({params})' if params else ''}{body}{result}{who}"


def schema_text(schema: JsonSchema) -> str:
    dumped = schema.model_dump(by_alias=True, exclude_none=True, exclude={"description"})
    if "$ref" in dumped:
        return str(dumped["$ref"]).rsplit("/", 1)[-1]
    kind = dumped.get("type", "const" if "const" in dumped else "oneOf")
    fmt = dumped.get("format")
    return f"{kind}({fmt})" if fmt else str(kind)


def component_line(component: Component) -> str:
    required = set(component.schema.required)
    fields = [
        f"{name}{'' if name in required else '?'}: {schema_text(sub)}"
        for name, sub in component.schema.properties.items()
    ]
    return f"{component.name} {{{', '.join(fields)}}}"


def components_summary(components: Sequence[Component]) -> str:
    return _lines(component_line(c) for c in components)
