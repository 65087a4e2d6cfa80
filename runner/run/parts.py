"""The benchmark's own planning part: the list of endpoints the model wants, written before the operations.

The schemas package has the parts that build documents (tables, operations, components, test
functions); the endpoint plan is a harness step that decides how the interface phase is split into
calls, so it lives here. It is validated like any part: pydantic, then placed semantic errors.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError

from runner.schemas.base import AstModel
from runner.schemas.checks import duplicates
from runner.schemas.feedback import ValidationReport
from runner.schemas.interface import PATH_PATTERN, HttpMethod
from runner.schemas.pydantic_errors import from_validation_error

MAX_PLANNED_ENDPOINTS = 40
ENDPOINT_PLAN = "interface.plan"


class PlannedEndpoint(AstModel):
    """One endpoint to write later."""

    method: HttpMethod = Field(description="HTTP method.")
    path: str = Field(
        pattern=PATH_PATTERN,
        max_length=200,
        description="Plural kebab-case resources and {camelCase} parameters.",
    )
    purpose: str = Field(max_length=200, description="What it does: a verb and a resource of this project.")


class EndpointPlan(AstModel):
    """Every endpoint of the API, one line each."""

    endpoints: list[PlannedEndpoint] = Field(
        min_length=1, max_length=MAX_PLANNED_ENDPOINTS, description="Endpoints; each (method, path) once."
    )


def validate_endpoint_plan(data: Any) -> ValidationReport:
    try:
        plan = EndpointPlan.model_validate(data)
    except ValidationError as exc:
        return ValidationReport(ENDPOINT_PLAN, data, tuple(from_validation_error(exc, data)))
    errors = duplicates(
        data, ("endpoints",), plan.endpoints, lambda e: (e.method, e.path), "path", "method and path"
    )
    return ValidationReport(ENDPOINT_PLAN, data, tuple(errors), plan)
