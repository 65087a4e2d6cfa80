"""A small Ollama on 127.0.0.1: the endpoints lapbench's HTTP backend uses, shaped as in ollama's api/types.go.

- `GET /api/version` -> `{"version": ...}`; `GET /v1/models` (OpenAI-compatible list) and `GET /api/tags`;
- `POST /api/chat` (`ChatRequest`): without `format` the "model" chats ("Hello! ..."); with a JSON-schema
  `format` it answers the simplest document the schema admits (const, first enum value, first `anyOf` branch,
  required properties only, `minItems` items), as Ollama's grammar would force — unless `obeys_format` is
  False (an Ollama older than structured outputs, which ignored a schema);
- `POST /v1/chat/completions`: chat that enforces nothing (ignores `response_format` and tools).
Every request body is kept in `requests` as (path, JSON body).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.support.tiny_http import serve

CHATTER = "Hello! I am a tiny model and I like to talk."


@dataclass
class FakeOllama:
    version: str = "0.6.2"
    model: str = "tiny:latest"
    obeys_format: bool = True
    requests: list[tuple[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        data = json.loads(body) if body else None
        with self.lock:
            self.requests.append((path, data))
        if method == "GET" and path == "/api/version":
            return 200, _json({"version": self.version})
        if method == "GET" and path == "/v1/models":
            return 200, _json({"object": "list", "data": [{"id": self.model, "object": "model"}]})
        if method == "GET" and path == "/api/tags":
            return 200, _json({"models": [{"name": self.model, "model": self.model}]})
        if method == "POST" and path == "/api/chat":
            return self._chat(data)
        if method == "POST" and path == "/v1/chat/completions":
            return 200, _json(_openai_answer(self.model, CHATTER))
        return 404, b"404 page not found"

    def _chat(self, data: Any) -> tuple[int, bytes]:
        if not isinstance(data, dict) or not data.get("messages"):
            return 400, _json({"error": "messages are required"})
        if data.get("stream") is not False:
            return 400, _json({"error": "this fake answers stream=false only"})
        schema = data.get("format")
        content = CHATTER
        if isinstance(schema, dict) and self.obeys_format:
            content = json.dumps(simplest(schema, schema))
        elif schema == "json":
            content = "{}"
        words = sum(len(str(m.get("content", "")).split()) for m in data["messages"])
        answer = {
            "model": data.get("model"),
            "created_at": "2026-01-01T00:00:00Z",
            "message": {"role": "assistant", "content": content},
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": words,
            "prompt_eval_duration": 20_000_000,
            "eval_count": max(len(content) // 4, 1),
            "eval_duration": 80_000_000,
        }
        return 200, _json(answer)

    @contextmanager
    def running(self) -> Iterator[str]:
        """Serve until the block ends; yields the /v1 base URL, as a user would configure it."""
        with serve(self.handle) as root:
            yield root + "/v1"


def simplest(schema: Any, root: Mapping[str, Any]) -> Any:
    """The simplest instance of `schema` (refs resolved in `root`)."""
    if not isinstance(schema, Mapping):
        return None
    if "$ref" in schema:
        node: Any = root
        for part in str(schema["$ref"]).removeprefix("#/").split("/"):
            node = node[part]
        return simplest(node, root)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return simplest(schema[key][0], root)
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: simplest(props.get(name, {}), root) for name in schema.get("required", [])}
    if kind == "array":
        return [simplest(schema.get("items", {}), root) for _ in range(int(schema.get("minItems", 0)))]
    if kind == "string":
        return "x" * max(int(schema.get("minLength", 1)), 1)
    if kind in ("integer", "number"):
        low = schema.get("minimum", 0)
        return int(low) if kind == "integer" else float(low)
    return True if kind == "boolean" else None


def _openai_answer(model: str, content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 12, "total_tokens": 22},
    }


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()
