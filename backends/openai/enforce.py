"""How a server is asked to enforce a constraint, and what it turned out to obey.

Modes, each checked against the server's own source:
- "json_schema": `response_format: {"type": "json_schema", "json_schema": {"name", "schema", "strict": true}}`
  on `/chat/completions` — llama-server (tools/server `oaicompat_chat_params_parse` reads
  `response_format.json_schema.schema` into its grammar), LM Studio, vLLM, hosted OpenAI-style APIs;
- "json_object": `response_format: {"type": "json_object", "schema": ...}` — llama-cpp-python's server, whose
  `ChatCompletionRequestResponseFormat` admits only "text" and "json_object" (a "json_schema" request is refused
  with HTTP 500); llama-server reads this form too;
- "ollama": Ollama's native `POST /api/chat` with `format` = the schema (`ChatRequest.Format json.RawMessage`
  in ollama's api/types.go; structured outputs since 0.5);
- "tool": the forced tool call (`tools` + `tool_choice`), the fallback every OpenAI-compatible server takes,
  though servers enforce it differently or not at all.

The probe (`PROBE`) asks for "hello" under a schema that admits a single string the model cannot guess: a
server that answers with exactly that string enforced the schema. `Enforcement.enforced` is that finding; each
generation is still checked (`obeys`), since a server may fall back to plain JSON for a schema it cannot compile.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from backends.base import Constraint, GenerationRequest, Message, RemoteError

Mode = Literal["json_schema", "json_object", "ollama", "tool"]
MODES: tuple[Mode, ...] = ("json_schema", "json_object", "ollama", "tool")
ServerKind = Literal["ollama", "llama-server", "llama-cpp-python", "openai"]

PROBE_VALUE = "lapbench-probe-7f3a9c"
PROBE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"probe": {"type": "string", "enum": [PROBE_VALUE]}},
    "required": ["probe"],
    "additionalProperties": False,
}
PROBE = GenerationRequest(
    messages=(Message("user", "Reply with the single word: hello"),),
    max_tokens=48,
    temperature=0.0,
    constraint=Constraint(json_schema=PROBE_SCHEMA, name="lapbench_probe"),
)

# Best first for each kind of server; the forced tool call is always tried last.
CANDIDATES: dict[ServerKind, tuple[Mode, ...]] = {
    "ollama": ("ollama", "json_schema", "tool"),
    "llama-server": ("json_schema", "tool"),
    "llama-cpp-python": ("json_object", "tool"),
    "openai": ("json_schema", "json_object", "tool"),
}


@dataclass(frozen=True)
class ServerInfo:
    kind: ServerKind
    version: str | None = None
    slots: int | None = None
    """llama-server's parallel slots (`-np`, from `/props` total_slots)."""


@dataclass(frozen=True)
class Enforcement:
    mode: Mode
    enforced: bool
    """The probe saw the server obey in this mode (or the options declared that it does)."""
    findings: tuple[str, ...] = ()
    """One line per mode the probe tried."""

    @property
    def engine(self) -> str:
        return f"server:{self.mode}"


def declared(options: Mapping[str, Any]) -> Enforcement | None:
    """The enforcement the load options fix without probing (`enforce`: a mode, "none" or "auto"; the older
    `server_enforces_schema` flag means a forced tool call the server enforces), or None to probe."""
    choice = options.get("enforce")
    if choice is None and "server_enforces_schema" in options:
        choice = "tool" if options["server_enforces_schema"] else "none"
    if choice in (None, "auto"):
        return None
    if choice == "none":
        return Enforcement("tool", False, ("declared: none",))
    if choice not in MODES:
        raise RemoteError(f"unknown enforce option {choice!r}: use auto, none, {', '.join(MODES)}")
    return Enforcement(choice, True, (f"declared: {choice}",))


def server_kind(version: Any, props: Any, tokenize_path: str | None) -> ServerInfo:
    """What answers: Ollama has `/api/version`, llama-server `/props` with total_slots, llama-cpp-python
    `/extras/tokenize`; anything else is a generic OpenAI-compatible server."""
    if isinstance(version, Mapping) and isinstance(version.get("version"), str):
        return ServerInfo("ollama", str(version["version"]))
    if isinstance(props, Mapping) and "total_slots" in props:
        build = props.get("build_info")
        return ServerInfo("llama-server", str(build) if build else None, int(props["total_slots"]))
    if tokenize_path == "/extras/tokenize":
        return ServerInfo("llama-cpp-python")
    return ServerInfo("openai")


def constraint_fields(constraint: Constraint, mode: Mode) -> dict[str, Any]:
    """The body fields that carry `constraint` on `/chat/completions` in `mode` (not "ollama": see ollama.py)."""
    schema = dict(constraint.json_schema)
    if mode == "json_schema":
        wrapped = {"name": constraint.name, "schema": schema, "strict": True}
        return {"response_format": {"type": "json_schema", "json_schema": wrapped}}
    if mode == "json_object":
        return {"response_format": {"type": "json_object", "schema": schema}}
    function = {"name": constraint.name, "parameters": schema}
    return {
        "tools": [{"type": "function", "function": function}],
        "tool_choice": {"type": "function", "function": {"name": constraint.name}},
    }


def obeys(text: str, schema: Mapping[str, Any]) -> bool:
    """`text` is one JSON document valid for `schema` (property order is free, as in JSON Schema)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return False
    return bool(_validator(json.dumps(schema, sort_keys=True)).is_valid(data))


@functools.lru_cache(maxsize=16)
def _validator(schema_text: str) -> Any:
    """A jsonschema validator whose anyOf/oneOf stop at the first branch that decides: the stock ones collect
    every error of every failing branch, which is exponential on the recursive unions of the test phase
    (12 s for one test function, against 0.2 s)."""
    import jsonschema
    from jsonschema import ValidationError, validators

    def any_of(validator: Any, branches: list[Any], instance: Any, _: Any) -> Iterator[ValidationError]:
        if not any(validator.evolve(schema=branch).is_valid(instance) for branch in branches):
            yield ValidationError("is not valid under any of the given schemas")

    def one_of(validator: Any, branches: list[Any], instance: Any, _: Any) -> Iterator[ValidationError]:
        valid = (b for b in branches if validator.evolve(schema=b).is_valid(instance))
        if sum(1 for _ in itertools.islice(valid, 2)) != 1:
            yield ValidationError("is not valid under exactly one of the given schemas")

    fast = validators.extend(jsonschema.Draft202012Validator, {"anyOf": any_of, "oneOf": one_of})
    return fast(json.loads(schema_text))
