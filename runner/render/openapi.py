"""Render an `InterfaceDocument` to an OpenAPI 3.1 document (a plain dict, JSON-ready).

Component schemas are emitted as they are in the AST (already JSON Schema 2020-12, which OpenAPI 3.1 uses).
Operation ids are derived from method and path because AST operation names ("create", "at") repeat
across paths while OpenAPI requires unique ids. Operations with an `authorization_actor` require the
bearer scheme; the actor is recorded in the `x-lapbench-actor` extension.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from runner.schemas.interface import REF_PREFIX, InterfaceDocument, Operation

OPENAPI_VERSION = "3.1.0"
SUCCESS_STATUS = {"post": "201", "get": "200", "put": "200", "patch": "200", "delete": "200"}


def operation_id(op: Operation) -> str:
    slug = re.sub(r"[{}]", "", op.path).strip("/").replace("/", "_").replace("-", "_")
    return f"{op.method}_{slug}" if slug else op.method


def _json_content(component: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": REF_PREFIX + component}}}


def render_operation(op: Operation) -> dict[str, Any]:
    out: dict[str, Any] = {
        "operationId": operation_id(op),
        "summary": op.name,
        "description": op.description,
    }
    if op.path_parameters:
        out["parameters"] = [
            {
                "name": p.name,
                "in": "path",
                "required": True,
                "description": p.description,
                "schema": p.schema.model_dump(by_alias=True, exclude_none=True),
            }
            for p in op.path_parameters
        ]
    if op.request_body is not None:
        out["requestBody"] = {"required": True, "content": _json_content(op.request_body)}
    status = SUCCESS_STATUS[op.method]
    if op.response_body is not None:
        out["responses"] = {status: {"description": "Success.", "content": _json_content(op.response_body)}}
    else:
        out["responses"] = {"204": {"description": "Success, no content."}}
    if op.authorization_actor:
        out["security"] = [{"bearer": []}]
        out["x-lapbench-actor"] = op.authorization_actor
    return out


def render_openapi(
    doc: InterfaceDocument, title: str = "lapbench API", version: str = "1.0.0"
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of an interface AST."""
    paths: dict[str, dict[str, Any]] = {}
    for op in doc.operations:
        paths.setdefault(op.path, {})[op.method] = render_operation(op)
    schemas = {c.name: c.schema.model_dump(by_alias=True, exclude_none=True) for c in doc.components}
    components: dict[str, Any] = {"schemas": schemas}
    if any(op.authorization_actor for op in doc.operations):
        components["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        }
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": components,
    }


def validate_openapi(spec: dict[str, Any], limit: int = 20) -> list[str]:
    """Errors reported by openapi-spec-validator (OpenAPI 3.1), at most `limit`; empty when valid.

    The validator takes about a second for a mid-sized API, so results are memoised by content (the
    same document scored again, as in repeated runs and tests, is validated once)."""
    return list(_validate_cached(json.dumps(spec, sort_keys=True, default=str), limit))


@functools.lru_cache(maxsize=64)
def _validate_cached(spec_json: str, limit: int) -> tuple[str, ...]:
    from openapi_spec_validator import OpenAPIV31SpecValidator

    errors: list[str] = []
    try:
        for error in OpenAPIV31SpecValidator(json.loads(spec_json)).iter_errors():
            errors.append(str(getattr(error, "message", error)).splitlines()[0])
            if len(errors) >= limit:
                break
    except Exception as exc:  # an unresolvable $ref surfaces as an exception, not a validation error
        errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
    return tuple(errors)
