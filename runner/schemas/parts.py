"""The one part model that is not a phase's own AST class: an operation together with the components it
introduces. The other parts (`PARTS` in `runner.schemas.validate`) are `DatabaseFile`, `Table` and
`TestFunction`. Each part is validated on its own against a `ValidationContext` holding what earlier
parts produced; the pipeline (`runner.run.pipeline`) then assembles the document and validates it whole."""

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
