"""An OpenAI-compatible server on 127.0.0.1 whose "model" is the oracle: every chat call is answered with the
gold answer of the project in its prompt, as a forced tool call. A perfect model behind real HTTP, for what
runs over a server do (parallel calls, resume).

`gather=N` makes the first N generation requests wait for one another (up to 20 s), so a run that does not
keep N calls in flight fails with HTTP 500 instead of passing by luck. `response_format` is refused with
HTTP 400, like a server that knows only forced tool calls.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from backends.base import Constraint, GenerationRequest, LoadConfig, Message
from runner.oracle.backend import OracleBackend
from tests.support.tiny_http import serve

MODELS = {"object": "list", "data": [{"id": "gold", "object": "model"}]}


@dataclass
class GoldServer:
    gather: int = 0
    generations: int = 0
    """Chat completions answered."""
    in_flight: int = 0
    max_in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _barrier: threading.Barrier | None = None
    _oracle: OracleBackend = field(default_factory=OracleBackend)

    def __post_init__(self) -> None:
        self._oracle.load(LoadConfig(model="gold"))
        self._barrier = threading.Barrier(self.gather, timeout=20) if self.gather > 1 else None

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        if path == "/v1/models":
            return 200, json.dumps(MODELS).encode()
        if method != "POST" or path != "/v1/chat/completions":
            return 404, b'{"detail": "Not Found"}'
        data = json.loads(body)
        if "response_format" in data:
            return 400, b'{"error": "response_format is not supported"}'
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            gathered = self.generations < self.gather
            self.generations += 1
        try:
            if gathered and self._barrier is not None:
                try:
                    self._barrier.wait()
                except threading.BrokenBarrierError:
                    return 500, b'{"error": "fewer calls in flight than expected"}'
            return 200, json.dumps(self._answer(data)).encode()
        finally:
            with self._lock:
                self.in_flight -= 1

    def _answer(self, data: dict[str, Any]) -> dict[str, Any]:
        messages = tuple(Message(m["role"], m["content"]) for m in data["messages"])
        tool = (data.get("tools") or [{}])[0].get("function")
        constraint = Constraint(json_schema=tool["parameters"], name=tool["name"]) if tool else None
        request = GenerationRequest(
            messages=messages, max_tokens=int(data["max_tokens"]), constraint=constraint
        )
        generation = self._oracle.generate(request)
        message: dict[str, Any] = {"role": "assistant", "content": generation.text}
        if tool:
            call = {
                "id": "call-1",
                "type": "function",
                "function": {"name": tool["name"], "arguments": generation.text},
            }
            message = {"role": "assistant", "content": None, "tool_calls": [call]}
        usage = {
            "prompt_tokens": generation.stats.prompt_tokens,
            "completion_tokens": generation.stats.generated_tokens,
        }
        finish = "length" if generation.finish_reason == "length" else "tool_calls" if tool else "stop"
        choice = {"index": 0, "message": message, "finish_reason": finish}
        return {"object": "chat.completion", "model": "gold", "choices": [choice], "usage": usage}

    @contextmanager
    def running(self) -> Iterator[str]:
        """Serve until the block ends; yields the /v1 base URL."""
        with serve(self.handle) as root:
            yield root + "/v1"
