"""The phase pipeline of one project: analyze → database → interface → test → realize.

Big phases are split into small tool calls, each with the earlier results in its prompt and in its
validation context: the database is written table by table (the tables are the analysis's entities), the
interface as an endpoint plan followed by one call per endpoint (the operation plus the new components it
needs), the tests as one function per resource, the logic as one call per operation
(`runner.run.realize_phase`). The parts that validated are assembled into the phase
document, which is validated as a whole: that is the phase's gate. A part that fails after its retries is
left out; later phases run on whatever exists.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from runner.projects import Project
from runner.run.harness import CallSite, Harness, ToolResult, ToolSpec
from runner.run.narrow import RunKnowledge
from runner.run.parts import ENDPOINT_PLAN, EndpointPlan, validate_endpoint_plan
from runner.run.plan import CAPS, expect_value, pascal, resource_of
from runner.run.prompts import (
    SYSTEM,
    analysis_summary,
    components_summary,
    endpoint_plan_task,
    operation_line,
    planned_tables_summary,
    tables_summary,
    user_prompt,
)
from runner.run.realize_phase import realize_phase
from runner.run.record import PhaseStatus
from runner.run.tools import make_tool
from runner.schemas.analyze import AnalyzeDocument
from runner.schemas.context import ValidationContext, operation_map
from runner.schemas.database import DatabaseDocument, Table
from runner.schemas.feedback import ValidationReport
from runner.schemas.inflection import plural
from runner.schemas.interface import Component, InterfaceDocument, Operation
from runner.schemas.parts import OperationPart
from runner.schemas.validate import validate_document, validate_part


@dataclass
class PhaseOutcome:
    phase: str
    status: PhaseStatus = "skipped"
    document: BaseModel | None = None
    """The assembled document when it validated (the gate), else None."""
    draft: dict[str, Any] | None = None
    """The assembled JSON, valid or not."""
    report: ValidationReport | None = None
    results: list[ToolResult] = field(default_factory=list)
    planned: int = 0
    """Tool calls the phase planned, including those skipped after giving up (efficiency is scored
    against it)."""


@dataclass
class ProjectOutcome:
    project: Project
    repeat: int
    phases: dict[str, PhaseOutcome]
    track: str = "full"
    given: dict[str, BaseModel] = field(default_factory=dict)
    """The gold documents a controlled track hands the model (runner.run.tracks); empty in full."""


GIVE_UP_AFTER = 3


class ProjectPipeline:
    def __init__(
        self,
        harness: Harness,
        project: Project,
        repeat: int,
        on_phase: Callable[[str], None] | None = None,
        track: str = "full",
    ) -> None:
        self.track = track
        self.harness = harness
        self.project = project
        self.repeat = repeat
        self.caps = CAPS[project.size]
        self.on_phase = on_phase
        self.tables: list[Table] = []
        self.operations: list[Operation] = []
        self.components: list[Component] = []
        self.actors: frozenset[str] = frozenset()

    def run(self) -> ProjectOutcome:
        if self.track != "full":
            from runner.run.tracks import run_track

            return run_track(self, self.track)
        analyze = self._analyze()
        analysis = analyze.document if isinstance(analyze.document, AnalyzeDocument) else None
        database = self._database(analysis)
        interface = self._interface(analysis)
        tests = self._tests()
        schema, api = database.document, interface.document
        realize = realize_phase(
            self,
            analysis,
            schema if isinstance(schema, DatabaseDocument) else None,
            api if isinstance(api, InterfaceDocument) else None,
        )
        return ProjectOutcome(
            self.project, self.repeat, {o.phase: o for o in (analyze, database, interface, tests, realize)}
        )

    # helpers ----------------------------------------------------------------------------------------
    def _call(
        self, outcome: PhaseOutcome, part: str, tool: ToolSpec, context: Sequence[tuple[str, str]], task: str
    ) -> ToolResult:
        user = user_prompt(tool.name, tool.doc, self.project, context, task)
        site = CallSite(self.repeat, self.project.id, outcome.phase, part)
        result = self.harness.call(site, tool, SYSTEM, user)
        outcome.results.append(result)
        return result

    def _knows(self, **facts: Any) -> RunKnowledge | None:
        """What the run knows, for a grammar narrowed by it; None when the run decodes under the plain
        schema (`--grammar schema`) or under no grammar at all (free mode)."""
        options = self.harness.options
        return RunKnowledge(**facts) if options.mode == "grammar" and options.grammar == "narrowed" else None

    def _hopeless(self, outcome: PhaseOutcome) -> bool:
        """Stop a phase after `GIVE_UP_AFTER` tool calls in a row failed: a model that cannot write this
        part would spend the whole retry budget on every remaining one (bounds the run time)."""
        recent = [r for r in outcome.results if r.site.part != "plan"][-GIVE_UP_AFTER:]
        return len(recent) == GIVE_UP_AFTER and not any(r.valid for r in recent)

    def _start(self, phase: str) -> PhaseOutcome:
        if self.on_phase is not None:
            self.on_phase(phase)
        return PhaseOutcome(phase)

    @staticmethod
    def _finish(
        outcome: PhaseOutcome, draft: dict[str, Any] | None, report: ValidationReport | None
    ) -> PhaseOutcome:
        outcome.draft, outcome.report = draft, report
        if report is None or not report.valid:
            outcome.status = "failed"
            return outcome
        outcome.document = report.document
        outcome.status = "ok" if all(r.valid for r in outcome.results) else "partial"
        return outcome

    # phases -----------------------------------------------------------------------------------------
    def _analyze(self) -> PhaseOutcome:
        outcome = self._start("analyze")
        tool = make_tool("analyze", lambda data: validate_document("analyze", data))
        task = (
            "Analyse the requirements. Actors: the kinds of users (guest, member or admin). Entities: what the "
            "system stores, snake_case singular. Features: F1, F2, ... each done by one actor. Rules: R1, R2, ..."
        )
        result = self._call(outcome, "document", tool, [], task)
        if result.valid and isinstance(result.report.document, AnalyzeDocument):
            self.actors = frozenset(a.name for a in result.report.document.actors)
        return self._finish(
            outcome, result.data if result.valid else None, result.report if result.valid else None
        )

    def _database(self, analysis: AnalyzeDocument | None) -> PhaseOutcome:
        outcome = self._start("database")
        namespace = pascal(self.project.id)
        if analysis is None:  # no entity list to split by: the whole schema in one call
            context = ValidationContext()
            tool = make_tool("database.file", lambda data: validate_part("database.file", data, context))
            task = f"Write the whole database schema as one file with namespace {namespace}."
            result = self._call(outcome, "file", tool, [], task)
            files = [result.data] if result.valid else []
        else:
            names = list(dict.fromkeys(plural(e.name) for e in analysis.entities))[: self.caps.max_tables]
            descriptions = {plural(e.name): e.description for e in analysis.entities}
            context = ValidationContext(table_names=frozenset(names))
            outcome.planned = len(names)
            tables = []
            for name in names:
                if self._hopeless(outcome):
                    break
                known = self._knows(tables=tuple(names), table=name)
                tool = make_tool("database.table", self._table_validator(name, context), known=known)
                shown = [
                    ("Tables of the schema", planned_tables_summary(names, descriptions)),
                    ("Tables written so far", tables_summary(self.tables)),
                ]
                task = (
                    f"Write the table `{name}`. Its primary key is `id`. Add a foreign key for each relation; "
                    f"targetTable must be one of: {', '.join(names)}."
                )
                result = self._call(outcome, f"table {name}", tool, shown, task)
                if result.valid and isinstance(result.report.document, Table):
                    self.tables.append(result.report.document)
                    tables.append(result.data)
            files = [
                {"filename": f"schema-{self.project.id}.prisma", "namespace": namespace, "tables": tables}
            ]
        if not any(f["tables"] for f in files):
            return self._finish(outcome, None, None)
        draft = {"files": files}
        report = validate_document("database", draft)
        if report.valid and isinstance(report.document, DatabaseDocument):
            self.tables = report.document.tables()
        return self._finish(outcome, draft, report)

    @staticmethod
    def _table_validator(name: str, context: ValidationContext) -> Callable[[Any], ValidationReport]:
        def validate(data: Any) -> ValidationReport:
            return expect_value(
                validate_part("database.table", data, context), ("name",), name, "the planned table name"
            )

        return validate

    def _interface(self, analysis: AnalyzeDocument | None) -> PhaseOutcome:
        outcome = self._start("interface")
        shown_tables = (
            "Database tables",
            tables_summary(self.tables) or "(none: design from the requirements)",
        )
        actors = ("Actors", ", ".join(f"{a.name} ({a.kind})" for a in analysis.actors) if analysis else "")
        written = self._knows(tables=tuple(t.name for t in self.tables))
        plan_tool = make_tool(ENDPOINT_PLAN, validate_endpoint_plan, known=written)
        task = endpoint_plan_task(self.tables)
        plan = self._call(
            outcome, "plan", plan_tool, [shown_tables, ("Analysis", analysis_summary(analysis))], task
        )
        if not plan.valid or not isinstance(plan.report.document, EndpointPlan):
            return self._finish(outcome, None, None)
        table_names = frozenset(t.name for t in self.tables)
        operations: list[dict[str, Any]] = []
        components: list[dict[str, Any]] = []
        outcome.planned = 1 + len(plan.report.document.endpoints[: self.caps.max_endpoints])
        for i, endpoint in enumerate(plan.report.document.endpoints[: self.caps.max_endpoints]):
            if self._hopeless(outcome):
                break
            context = ValidationContext(
                table_names=table_names,
                component_names=frozenset(c.name for c in self.components),
                actor_names=self.actors,
            )
            # sorted: a frozenset's order changes between processes, and the schema hash must not
            facts = self._knows(endpoint=(endpoint.method, endpoint.path), actors=tuple(sorted(self.actors)))
            tool = make_tool(
                "interface.operation",
                self._operation_validator(endpoint.method, endpoint.path, context),
                known=facts,
            )
            shown = [
                shown_tables,
                actors,
                ("Components already defined (reuse them by name)", components_summary(self.components)),
                ("Operations written so far", "\n".join(operation_line(op) for op in self.operations)),
            ]
            task = (
                f"Write the operation `{endpoint.method} {endpoint.path}`: {endpoint.purpose}. Put each new "
                "component it needs (request body, response body, types they $ref) in `components`."
            )
            result = self._call(outcome, f"op{i:02d} {endpoint.method} {endpoint.path}", tool, shown, task)
            part = result.report.document
            if result.valid and isinstance(part, OperationPart):
                self.operations.append(part.operation)
                operations.append(result.data["operation"])
                known = {c.name for c in self.components}
                for component, raw in zip(part.components, result.data["components"], strict=True):
                    if component.name not in known:
                        self.components.append(component)
                        components.append(raw)
        if not operations:
            return self._finish(outcome, None, None)
        draft = {"operations": operations, "components": components}
        context = ValidationContext(table_names=table_names, actor_names=self.actors)
        return self._finish(outcome, draft, validate_document("interface", draft, context))

    @staticmethod
    def _operation_validator(
        method: str, path: str, context: ValidationContext
    ) -> Callable[[Any], ValidationReport]:
        def validate(data: Any) -> ValidationReport:
            report = validate_part("interface.operation", data, context)
            report = expect_value(report, ("operation", "method"), method, "the planned method")
            return expect_value(report, ("operation", "path"), path, "the planned path")

        return validate

    def _tests(self) -> PhaseOutcome:
        outcome = self._start("test")
        if not self.operations:
            return outcome
        groups: dict[str, list[Operation]] = {}
        for op in self.operations:
            groups.setdefault(resource_of(op.path), []).append(op)
        context = ValidationContext(
            component_names=frozenset(c.name for c in self.components),
            operations=operation_map(self.operations),
        )
        bodies = {op.request_body for op in self.operations if op.request_body}
        functions: list[dict[str, Any]] = []
        outcome.planned = min(len(groups), self.caps.max_tests)
        for resource, ops in list(groups.items())[: self.caps.max_tests]:
            if self._hopeless(outcome):
                break
            name = "test_" + re.sub(r"[^a-z0-9]+", "_", resource.lower()).strip("_")
            known = self._knows(
                operations=tuple((op.method, op.path) for op in self.operations), function=name
            )
            tool = make_tool(
                "test.function", lambda data: validate_part("test.function", data, context), known=known
            )
            shown = [
                ("Operations you may call", "\n".join(operation_line(op) for op in self.operations)),
                ("Request bodies", components_summary([c for c in self.components if c.name in bodies])),
            ]
            focus = ", ".join(f"{op.method} {op.path}" for op in ops)
            task = (
                f"Write the test function `{name}` for the `{resource}` endpoints ({focus}): call operations in "
                "a realistic order, keep responses in variables, and check them with equalPredicate or "
                "conditionalPredicate."
            )
            result = self._call(outcome, f"function {resource}", tool, shown, task)
            if result.valid:
                functions.append(result.data)
        if not functions:
            return self._finish(outcome, None, None)
        draft = {"functions": functions}
        return self._finish(outcome, draft, validate_document("test", draft, context))
