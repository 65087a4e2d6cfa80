"""What a semantic check may know beyond the document itself: names from earlier phases or earlier
parts of the same phase (a part call validates against the tables/components already accepted)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from runner.schemas.analyze import AnalyzeDocument
from runner.schemas.database import DatabaseDocument
from runner.schemas.interface import InterfaceDocument, Operation


@dataclass(frozen=True)
class OperationSignature:
    """What a test needs to know to call an operation."""

    method: str
    path: str
    path_parameters: tuple[str, ...]
    request_body: str | None
    response_body: str | None

    @classmethod
    def of(cls, op: Operation) -> OperationSignature:
        params = tuple(p.name for p in op.path_parameters)
        return cls(op.method, op.path, params, op.request_body, op.response_body)


@dataclass(frozen=True)
class ValidationContext:
    """Known names. Empty sets mean "unknown, do not check" for actors; tables and components are
    always checked (an empty set then means "none known besides the document's own")."""

    table_names: frozenset[str] = frozenset()
    component_names: frozenset[str] = frozenset()
    actor_names: frozenset[str] = frozenset()
    # None: the interface is unknown, so API calls of tests are not checked.
    operations: Mapping[tuple[str, str], OperationSignature] | None = field(default=None)

    @classmethod
    def from_documents(
        cls,
        analyze: AnalyzeDocument | None = None,
        database: DatabaseDocument | None = None,
        interface: InterfaceDocument | None = None,
    ) -> ValidationContext:
        return cls(
            table_names=frozenset(t.name for t in database.tables()) if database else frozenset(),
            component_names=frozenset(c.name for c in interface.components) if interface else frozenset(),
            actor_names=frozenset(a.name for a in analyze.actors) if analyze else frozenset(),
            operations=operation_map(interface.operations) if interface else None,
        )


def operation_map(operations: Iterable[Operation]) -> dict[tuple[str, str], OperationSignature]:
    """(method, path) -> signature."""
    return {(op.method, op.path): OperationSignature.of(op) for op in operations}
