"""Grammar mode over HTTP: the server is asked to enforce the schema the way it can, a probe at load time
finds out which way it obeys, and every generation records whether the server enforced it.

Against a real `python -m llama_cpp.server` on the default model, a small Ollama on 127.0.0.1
(tests/support/fake_ollama.py), and tiny servers that claim more than they do."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict

from backends.base import Constraint, GenerationRequest, LoadConfig, Message, RemoteError
from backends.openai.backend import OpenAIHttpBackend
from backends.openai.enforce import PROBE_VALUE, Enforcement
from tests.support.fake_ollama import FakeOllama
from tests.support.llama_server import llama_cpp_server
from tests.support.tiny_http import serve


class SkyPick(BaseModel):
    model_config = ConfigDict(extra="forbid")
    color: Literal["red", "green", "blue", "grey"]
    sure: bool


PICK = Constraint(json_schema=SkyPick.model_json_schema(), name="pick_sky_color")
ASK = (
    Message("user", 'What color is the sky on a clear day? Answer as {"color": ..., "sure": true|false}.'),
)


def _load(url: str, **options: Any) -> OpenAIHttpBackend:
    backend = OpenAIHttpBackend()
    # generous: on a busy shared machine a 2-core server can take minutes per call
    backend.load(LoadConfig(url, options={"retries": 0, "timeout_s": 600, **options}))
    return backend


# -- llama-cpp-python's server ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def llama_server(smollm2_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with llama_cpp_server(smollm2_gguf, tmp_path_factory.mktemp("llama-server")) as url:
        yield url


@pytest.mark.model
@pytest.mark.server
@pytest.mark.slow
def test_probe_finds_the_response_format_llama_cpp_python_enforces(llama_server: str) -> None:
    backend = _load(llama_server)
    assert backend.server.kind == "llama-cpp-python"
    assert backend.enforcement.mode == "json_object", backend.enforcement.findings
    assert backend.enforcement.enforced
    generation = backend.generate(GenerationRequest(messages=ASK, max_tokens=48, constraint=PICK))
    SkyPick.model_validate_json(generation.text)
    assert generation.constrained is True and generation.engine == "server:json_object"
    assert generation.stats.prompt_tokens > 0 and generation.stats.generated_tokens > 0
    free = backend.generate(GenerationRequest(messages=ASK, max_tokens=8))
    assert free.constrained is False and free.engine is None
    backend.close()


@pytest.mark.model
@pytest.mark.server
@pytest.mark.slow
def test_llama_cpp_python_refuses_json_schema_and_enforces_forced_tools(llama_server: str) -> None:
    # its ChatCompletionRequestResponseFormat admits "text" and "json_object" only
    refused = _load(llama_server, enforce="json_schema")
    with pytest.raises(RemoteError, match="json_object"):
        refused.generate(GenerationRequest(messages=ASK, max_tokens=16, constraint=PICK))
    refused.close()
    tool = _load(llama_server, enforce="tool")
    generation = tool.generate(GenerationRequest(messages=ASK, max_tokens=48, constraint=PICK))
    SkyPick.model_validate_json(generation.text)
    assert generation.constrained is True and generation.engine == "server:tool"
    tool.close()


# -- Ollama ---------------------------------------------------------------------------------------------


def test_ollama_gets_the_schema_as_native_format() -> None:
    ollama = FakeOllama()
    with ollama.running() as url:
        backend = _load(url)
        assert (backend.server.kind, backend.server.version) == ("ollama", "0.6.2")
        assert backend.enforcement == Enforcement("ollama", True, ("ollama: obeyed",))
        request = GenerationRequest(messages=ASK, max_tokens=40, temperature=0.3, seed=7, constraint=PICK)
        generation = backend.generate(request)
        free = backend.generate(GenerationRequest(messages=ASK, max_tokens=8))
    assert SkyPick.model_validate_json(generation.text) == SkyPick(color="red", sure=True)
    assert generation.constrained is True and generation.engine == "server:ollama"
    assert generation.stats.prompt_seconds == pytest.approx(0.02)
    assert generation.stats.generation_seconds == pytest.approx(0.08)
    _, body = [r for r in ollama.requests if r[0] == "/api/chat"][-1]
    assert body["format"] == PICK.json_schema and body["stream"] is False
    assert body["model"] == "tiny:latest" and body["messages"][0]["content"] == ASK[0].content
    assert body["options"] == {"num_predict": 40, "temperature": 0.3, "top_p": 1.0, "seed": 7}
    assert free.constrained is False  # an unconstrained call goes to the OpenAI-compatible endpoint
    assert ollama.requests[-1][0] == "/v1/chat/completions"


def test_an_ollama_that_ignores_format_is_not_claimed_to_enforce() -> None:
    ollama = FakeOllama(version="0.4.7", obeys_format=False)
    with ollama.running() as url:
        backend = _load(url)
        generation = backend.generate(GenerationRequest(messages=ASK, max_tokens=40, constraint=PICK))
    assert backend.enforcement.mode == "tool" and not backend.enforcement.enforced
    assert [f.split(":")[0] for f in backend.enforcement.findings] == ["ollama", "json_schema", "tool"]
    assert generation.constrained is False and generation.engine is None
    path, body = ollama.requests[-1]
    assert path == "/v1/chat/completions"
    assert body["tool_choice"] == {"type": "function", "function": {"name": "pick_sky_color"}}


# -- servers that claim more than they do ---------------------------------------------------------------


def _answer(content: str) -> bytes:
    choice = {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
    usage = {"prompt_tokens": 5, "completion_tokens": 4}
    return json.dumps({"object": "chat.completion", "choices": [choice], "usage": usage}).encode()


def test_llama_server_gets_json_schema_and_each_answer_is_checked() -> None:
    """llama-server (`/props` with total_slots) gets `response_format` json_schema; a server that obeyed the
    probe but answers a real call outside the schema is not credited with enforcing it."""
    bodies: list[dict[str, Any]] = []

    def handler(method: str, path: str, body: bytes) -> tuple[int, bytes]:
        if path == "/v1/models":
            return 200, json.dumps({"data": [{"id": "m"}]}).encode()
        if path == "/props":
            return 200, json.dumps({"total_slots": 4, "build_info": "b6000-abc"}).encode()
        if path != "/v1/chat/completions":
            return 404, b"{}"
        request = json.loads(body)
        bodies.append(request)
        schema = request.get("response_format", {}).get("json_schema", {}).get("schema", {})
        if "probe" in schema.get("properties", {}):
            return 200, _answer(json.dumps({"probe": PROBE_VALUE}))
        return 200, _answer(
            '{"color": "purple", "sure": true}' if len(bodies) == 2 else '{"color": "blue", "sure": false}'
        )

    with serve(handler) as root:
        backend = _load(root + "/v1")
        wrong = backend.generate(GenerationRequest(messages=ASK, max_tokens=40, constraint=PICK))
        right = backend.generate(GenerationRequest(messages=ASK, max_tokens=40, constraint=PICK))
    assert (backend.server.kind, backend.server.slots) == ("llama-server", 4)
    assert backend.enforcement.mode == "json_schema" and backend.enforcement.enforced
    assert bodies[1]["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "pick_sky_color", "schema": PICK.json_schema, "strict": True},
    }
    assert "tools" not in bodies[1]
    assert wrong.constrained is False and wrong.engine is None
    assert right.constrained is True and right.engine == "server:json_schema"


def test_unknown_enforce_option_is_one_line() -> None:
    with pytest.raises(RemoteError, match="unknown enforce option 'grammar'"):
        _load("http://127.0.0.1:9/v1", enforce="grammar")
