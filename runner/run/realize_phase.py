"""The realize phase (DESIGN.md §4.2 step 5): one forced `realize.operation` call per operation of the
interface, after the tests. Each call shows the operation, the tables, the components it reads and
returns, and the actors; its answer is validated by the realize checks (every table, column, parameter,
body field and response property resolves) with placed feedback and retries, like every phase.

The valid operations are assembled into a realize document whose gate is checked against the operations
it realizes (an operation whose call failed is left out, as in the other phases, and counted in the
phase's parts); the runtime axis then executes what exists (`runner.run.runtime`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from runner.rubric.interface import needed_components
from runner.run.plan import expect_value
from runner.run.prompts import components_summary, operation_line, tables_summary
from runner.run.tools import make_tool
from runner.schemas.analyze import AnalyzeDocument
from runner.schemas.checks.realize import RealizeContext, validate_realize
from runner.schemas.database import DatabaseDocument
from runner.schemas.feedback import ValidationReport
from runner.schemas.interface import InterfaceDocument, Operation
from runner.schemas.realize import RealizeOperation
from runner.schemas.validate import validate_part

if TYPE_CHECKING:
    from runner.run.pipeline import PhaseOutcome, ProjectPipeline

REALIZE_TOOL = "realize.operation"


def realize_task(op: Operation) -> str:
    """The task line; the oracle finds the operation in it (`logic of `method path``)."""
    returns = f"return a `{op.response_body}`" if op.response_body else "return null"
    return (
        f"Write the logic of `{op.method} {op.path}`: {op.description[:200]} Read `params`, `body` and "
        f"`actor`; select, insert, update or delete rows of the tables; add a check for each error case "
        f"(400, 401, 403, 404, 409); {returns}."
    )


def _validator(op: Operation, context: RealizeContext) -> Callable[[Any], ValidationReport]:
    def validate(data: Any) -> ValidationReport:
        report = validate_part(REALIZE_TOOL, data, context)
        report = expect_value(report, ("method",), op.method, "the method of the operation")
        return expect_value(report, ("path",), op.path, "the path of the operation")

    return validate


def realize_phase(
    pipeline: ProjectPipeline,
    analysis: AnalyzeDocument | None,
    database: DatabaseDocument | None,
    interface: InterfaceDocument | None,
) -> PhaseOutcome:
    """Write the logic of every operation of `interface` over the tables of `database`; skipped when
    either is missing (nothing to realize against)."""
    outcome = pipeline._start("realize")
    if database is None or interface is None or not interface.operations:
        return outcome
    context = RealizeContext.of(analysis, database, interface)
    operations = interface.operations[: pipeline.caps.max_endpoints]
    outcome.planned = len(operations)
    actors = ", ".join(f"{a.name} ({a.kind})" for a in analysis.actors) if analysis else ""
    tables = database.tables()
    columns = tuple(dict.fromkeys(c for t in tables for c in t.column_types()))
    actor_names = tuple(sorted(a.name for a in analysis.actors)) if analysis else ()
    parts: list[dict[str, Any]] = []
    for i, op in enumerate(operations):
        if pipeline._hopeless(outcome):
            break
        uses = needed_components([n for n in (op.request_body, op.response_body) if n], interface)
        shown = [
            ("Database tables", tables_summary(tables)),
            ("Actors", actors),
            ("Operation", operation_line(op)),
            (
                "Components it reads and returns",
                components_summary([c for c in interface.components if c.name in uses]),
            ),
        ]
        known = pipeline._knows(
            tables=tuple(t.name for t in tables),
            columns=columns,
            actors=actor_names,
            endpoint=(op.method, op.path),
        )
        tool = make_tool(REALIZE_TOOL, _validator(op, context), known=known)
        result = pipeline._call(outcome, f"op{i:02d} {op.method} {op.path}", tool, shown, realize_task(op))
        if result.valid and isinstance(result.report.document, RealizeOperation):
            parts.append(result.data)
    if not parts:
        return pipeline._finish(outcome, None, None)
    draft = {"operations": parts}
    # The gate: the document is valid for the operations it realizes (the missing ones are counted as
    # failed parts, not as an invalid document, like a table or operation whose call failed).
    written = {(p["method"], p["path"]) for p in parts}
    realized = interface.model_copy(
        update={"operations": [o for o in interface.operations if (o.method, o.path) in written]}
    )
    return pipeline._finish(
        outcome, draft, validate_realize(draft, RealizeContext.of(analysis, database, realized))
    )
