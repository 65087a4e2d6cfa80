"""Part models: the small calls a big phase is split into (one namespace, one table, one operation with
the components it introduces, one component, one test function). Each part is validated on its own
against a `ValidationContext` holding what earlier parts produced, then the harness assembles the
document and validates it as a whole."""

from __future__ import annotations

from pydantic import Field

from runner.schemas.base import AstModel
from runner.schemas.interface import MAX_COMPONENTS, Component, Operation


class OperationPart(AstModel):
    """One operation plus the components it needs that do not exist yet."""

    operation: Operation = Field(description="The endpoint.")
    components: list[Component] = Field(
        max_length=MAX_COMPONENTS, description="New types it uses (request/response bodies and their $refs)."
    )
