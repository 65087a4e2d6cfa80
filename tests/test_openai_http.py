"""OpenAI-compatible HTTP backend against tiny real HTTP servers on 127.0.0.1 that misbehave on purpose:
down, too slow, malformed JSON, plain-content tool calls. (The well-behaved server, llama-cpp-python's,
is exercised by tests/test_backend_contract.py.)"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from backends.base import Constraint, GenerationRequest, LoadConfig, Message, RemoteError
from backends.openai.backend import OpenAIHttpBackend
from backends.openai.wire import base_url_from, recover_tool_arguments
from tests.support import tiny_http
from tests.support.tiny_http import Handler

MODELS = json.dumps({"object": "list", "data": [{"id": "tiny", "object": "model"}]}).encode()


def _completion(message: dict[str, Any], finish: str = "stop") -> bytes:
    answer = {
        "id": "x",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
    }
    return json.dumps(answer).encode()


@contextmanager
def serve(handler: Handler) -> Iterator[str]:
    """The handler's server; yields its /v1 base URL."""
    with tiny_http.serve(handler) as root:
        yield root + "/v1"


def _backend(url: str, **options: Any) -> OpenAIHttpBackend:
    backend = OpenAIHttpBackend()
    # these servers misbehave on purpose: no enforcement probe unless a test asks for one
    options = {"timeout_s": 0.5, "retries": 1, "enforce": "none", **options}
    backend.load(LoadConfig(model=url, options=options))
    return backend


CHAT = GenerationRequest(messages=(Message("user", "hi"),), max_tokens=8)
PICK = Constraint(
    json_schema={"type": "object", "properties": {"color": {"type": "string"}}, "required": ["color"]},
    name="pick_color",
)


def test_server_down_is_a_remote_error_naming_the_url() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    with pytest.raises(RemoteError) as err:
        _backend(url)
    assert f"127.0.0.1:{port}" in str(err.value)
    assert "2 attempts" in str(err.value)


def test_slow_server_times_out_instead_of_hanging() -> None:
    def handler(method: str, path: str, body: bytes) -> tuple[int, bytes]:
        if path.endswith("/models"):
            return 200, MODELS
        time.sleep(3)  # far beyond timeout_s=0.5
        return 200, _completion({"role": "assistant", "content": "late"})

    with serve(handler) as url:
        backend = _backend(url)
        with pytest.raises(RemoteError) as err:
            backend.generate(CHAT)
        backend.close()
    assert "/chat/completions" in str(err.value)
    assert "no answer within 0.5 s" in str(err.value)


def test_malformed_json_is_a_remote_error() -> None:
    def handler(method: str, path: str, body: bytes) -> tuple[int, bytes]:
        if path.endswith("/models"):
            return 200, MODELS
        return 200, b'{"choices": [{"message": '

    with serve(handler) as url:
        backend = _backend(url)
        with pytest.raises(RemoteError, match="not JSON") as err:
            backend.generate(CHAT)
    assert url in str(err.value)


def test_json_that_is_not_a_completion_is_a_remote_error() -> None:
    def handler(method: str, path: str, body: bytes) -> tuple[int, bytes]:
        return 200, MODELS if path.endswith("/models") else b'{"result": "ok"}'

    with serve(handler) as url, pytest.raises(RemoteError, match="not an OpenAI completion"):
        _backend(url).generate(CHAT)


def test_retries_a_busy_server_then_succeeds() -> None:
    calls: list[str] = []

    def handler(method: str, path: str, body: bytes) -> tuple[int, bytes]:
        if path.endswith("/models"):
            return 200, MODELS
        if not path.endswith("/chat/completions"):
            return 404, b"{}"
        calls.append(path)
        if len(calls) == 1:
            return 503, b'{"error": "loading model"}'
        return 200, _completion({"role": "assistant", "content": "hello"})

    with serve(handler) as url:
        generation = _backend(url).generate(CHAT)
    assert generation.text == "hello"
    assert len(calls) == 2


def test_forced_tool_call_request_and_tagged_text_recovery() -> None:
    seen: list[dict[str, Any]] = []

    def handler(method: str, path: str, body: bytes) -> tuple[int, bytes]:
        if path.endswith("/models"):
            return 200, MODELS
        if not path.endswith("/chat/completions"):
            return 404, b"{}"
        seen.append(json.loads(body))
        content = 'Sure!\n<tool_call>\n{"name": "pick_color", "arguments": {"color": "red"}}\n</tool_call>'
        return 200, _completion({"role": "assistant", "content": content})

    with serve(handler) as url:
        backend = _backend(url, api_key="sk-test")
        generation = backend.generate(GenerationRequest(messages=CHAT.messages, constraint=PICK))
    assert json.loads(generation.text) == {"color": "red"}
    assert generation.constrained is False  # the server was not declared to enforce schemas
    request = seen[0]
    assert request["tool_choice"] == {"type": "function", "function": {"name": "pick_color"}}
    assert request["tools"][0]["function"]["parameters"] == dict(PICK.json_schema)
    assert request["model"] == "tiny"
    assert generation.stats.prompt_tokens == 7
    assert generation.stats.generated_tokens == 3


def test_native_tool_call_arguments_are_the_text() -> None:
    call = {
        "id": "c1",
        "type": "function",
        "function": {"name": "pick_color", "arguments": '{"color":"blue"}'},
    }

    def handler(method: str, path: str, body: bytes) -> tuple[int, bytes]:
        if path.endswith("/models"):
            return 200, MODELS
        return 200, _completion({"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls")

    with serve(handler) as url:
        backend = _backend(url, enforce="tool")
        generation = backend.generate(GenerationRequest(messages=CHAT.messages, constraint=PICK))
    assert generation.text == '{"color":"blue"}'
    assert generation.finish_reason == "stop"
    assert generation.constrained is True


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('<tool_call>{"name": "f", "arguments": {"a": 1}}</tool_call>', {"a": 1}),
        ('Here you go:\n```json\n{"a": [1, 2]}\n```\nDone.', {"a": [1, 2]}),
        ('```\n{"name": "f", "arguments": "{\\"a\\": 2}"}\n```', {"a": 2}),
        ('{"name": "f", "parameters": {"a": 3}}', {"a": 3}),
        ('{"a": 4}', {"a": 4}),
    ],
)
def test_text_form_tool_calls_are_recovered(content: str, expected: Any) -> None:
    assert json.loads(recover_tool_arguments(content)) == expected


def test_plain_chatter_is_left_alone() -> None:
    assert recover_tool_arguments("I cannot do that.") == "I cannot do that."


def test_base_url_from_options_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAPBENCH_OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://env.example:9000/v1")
    assert base_url_from(LoadConfig(model="m")) == ("http://env.example:9000/v1", "m")
    monkeypatch.setenv("LAPBENCH_OPENAI_BASE_URL", "http://lap.example:1")
    assert base_url_from(LoadConfig(model="m")) == ("http://lap.example:1/v1", "m")
    options = {"base_url": "http://opt.example/api/v1/", "model_name": "ignored"}
    assert base_url_from(LoadConfig(model="m", options=options)) == ("http://opt.example/api/v1", "m")
    assert base_url_from(LoadConfig(model="http://h:2/v1", options={"model_name": "q"})) == (
        "http://h:2/v1",
        "q",
    )
    monkeypatch.delenv("LAPBENCH_OPENAI_BASE_URL")
    monkeypatch.delenv("OPENAI_BASE_URL")
    with pytest.raises(RemoteError, match="LAPBENCH_OPENAI_BASE_URL"):
        base_url_from(LoadConfig(model="m"))


def test_approximate_tokens_round_trip_without_a_tokenize_endpoint() -> None:
    def handler(method: str, path: str, body: bytes) -> tuple[int, bytes]:
        return (200, MODELS) if path.endswith("/models") else (404, b'{"detail": "Not Found"}')

    with serve(handler) as url:
        backend = _backend(url)
    assert backend.capabilities.token_level is False
    text = 'Grüße, 世界! {"a": 1}'
    tokens = backend.tokenize(text)
    assert backend.detokenize(tokens) == text
    assert len(tokens) == -(-len(text.encode()) // 4)


def test_streamed_tool_call_pieces_are_timed_and_joined() -> None:
    def sse(chunks: list[dict[str, Any]]) -> bytes:
        return b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in chunks) + b"data: [DONE]\n\n"

    def delta(arguments: str, finish: str | None = None) -> dict[str, Any]:
        call = {"index": 0, "function": {"arguments": arguments}}
        return {"choices": [{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": finish}]}

    def handler(method: str, path: str, body: bytes) -> tuple[int, bytes]:
        if path.endswith("/models"):
            return 200, MODELS
        if not path.endswith("/chat/completions"):
            return 404, b"{}"
        assert json.loads(body)["stream"] is True
        return 200, sse([delta('{"col'), delta('or": "re'), delta('d"}', "tool_calls")])

    pieces: list[tuple[int, str]] = []
    with serve(handler) as url:
        backend = _backend(url, stream=True)
        request = GenerationRequest(messages=CHAT.messages, constraint=PICK)
        generation = backend.generate(request, on_token=lambda token, piece: pieces.append((token, piece)))
    assert generation.text == '{"color": "red"}'
    assert pieces == [(-1, '{"col'), (-1, 'or": "re'), (-1, 'd"}')]
    assert generation.stats.generated_tokens == 3
    assert len(generation.stats.token_times) == 3
    assert generation.stats.time_to_first_token == generation.stats.token_times[0]
    assert backend.stream is True


def test_malformed_stream_chunk_is_a_remote_error() -> None:
    def handler(method: str, path: str, body: bytes) -> tuple[int, bytes]:
        if path.endswith("/models"):
            return 200, MODELS
        return (200, b"data: {not json\n\n") if path.endswith("/chat/completions") else (404, b"{}")

    with serve(handler) as url, pytest.raises(RemoteError, match="stream chunk is not JSON"):
        _backend(url, stream=True).generate(CHAT)
