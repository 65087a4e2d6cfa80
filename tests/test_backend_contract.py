"""One contract, every backend: llama.cpp and MLX on the default model (MLX through the converted folder),
the OpenAI-compatible HTTP backend against a real `python -m llama_cpp.server` on 127.0.0.1, and the fake.

Each backend is loaded once per module (parametrized module-scoped fixture); the server starts only when
the HTTP backend's turn comes and is terminated at the end of the module."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict

from backends.base import (
    Backend,
    BackendError,
    Constraint,
    Generation,
    GenerationRequest,
    LoadConfig,
    Message,
    ModelLoadError,
    UnsupportedCapability,
)
from backends.fake import FakeBackend, FakeReply
from backends.registry import create_backend
from tests.support.llama_server import llama_cpp_server


class SkyPick(BaseModel):
    """The AST of the constrained call: small, closed, and checkable by pydantic."""

    model_config = ConfigDict(extra="forbid")
    color: Literal["red", "green", "blue", "grey"]
    sure: bool


PICK = Constraint(json_schema=SkyPick.model_json_schema(), name="pick_sky_color")
QUESTION = (Message("user", "What is 2+2?"),)
STORY = "Once upon a time, in a small village by the sea,"
ANSWER = "The answer to this classic math problem is 4."


def _scripted(request: GenerationRequest) -> str:
    """The fake model's answers, shaped like the real model's on the same requests."""
    if request.constraint is not None:
        return '{"color": "blue", "sure": true}'
    if request.prompt is not None:
        return " there lived an old fisherman who loved the waves and the wind." * 4
    return ANSWER


@pytest.fixture(scope="module")
def llama_server(smollm2_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server with the default model; yields its /v1 URL."""
    with llama_cpp_server(smollm2_gguf, tmp_path_factory.mktemp("llama-server")) as url:
        yield url


BACKENDS = [
    pytest.param("fake", id="fake"),
    pytest.param("llama-cpp", id="llama-cpp", marks=pytest.mark.model),
    pytest.param("mlx", id="mlx", marks=[pytest.mark.model, pytest.mark.mlx]),
    pytest.param("openai", id="openai", marks=[pytest.mark.model, pytest.mark.server, pytest.mark.slow]),
]


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    name: str = request.param
    loaded: Backend
    if name == "fake":
        loaded = FakeBackend([_scripted] * 100, constraint_mode="enforce")
        config = LoadConfig(model="fake")
    elif name == "llama-cpp":
        loaded, config = (
            create_backend(name),
            LoadConfig(str(request.getfixturevalue("smollm2_gguf")), n_ctx=2048),
        )
    elif name == "mlx":
        loaded, config = (
            create_backend(name),
            LoadConfig(str(request.getfixturevalue("smollm2_mlx")), n_ctx=2048),
        )
    else:
        url = request.getfixturevalue("llama_server")
        options = {"server_enforces_schema": True, "timeout_s": 120, "retries": 0}
        loaded, config = create_backend(name), LoadConfig(url, options=options)
    loaded.load(config)
    yield loaded
    loaded.close()


def check_stats(generation: Generation) -> None:
    stats = generation.stats
    for field in ("prompt_tokens", "prompt_tokens_evaluated", "generated_tokens", "forced_tokens"):
        assert getattr(stats, field) >= 0, field
    for field in ("prompt_seconds", "time_to_first_token", "generation_seconds", "mask_seconds"):
        assert getattr(stats, field) >= 0.0, field
    assert stats.prompt_tokens_evaluated <= stats.prompt_tokens
    assert stats.forced_tokens <= stats.generated_tokens
    assert stats.prompt_tps >= 0.0 and stats.generation_tps >= 0.0
    assert stats.peak_memory_bytes is None or stats.peak_memory_bytes > 0
    assert list(stats.token_times) == sorted(stats.token_times)
    if stats.token_times:
        assert len(stats.token_times) == stats.generated_tokens
        assert stats.time_to_first_token == stats.token_times[0]


@pytest.mark.parametrize(
    "text", ["Hello, world!", 'JSON: {"a": [1, 2.5, true], "b": null}', " ünïcødé 世界\n\tok"]
)
def test_tokenize_detokenize_round_trip(backend: Backend, text: str) -> None:
    tokens = backend.tokenize(text)
    assert tokens and all(isinstance(t, int) for t in tokens)
    assert backend.detokenize(tokens) == text


def test_max_tokens_is_honoured(backend: Backend) -> None:
    seen: list[int] = []
    generation = backend.generate(
        GenerationRequest(prompt=STORY, max_tokens=6), on_token=lambda token, piece: seen.append(token)
    )
    check_stats(generation)
    assert generation.finish_reason == "length"
    assert generation.stats.generated_tokens == 6
    assert generation.text.strip()
    assert generation.constrained is False
    if backend.capabilities.token_level:
        assert len(generation.tokens) == 6
        assert seen == list(generation.tokens)
        assert backend.detokenize(generation.tokens) == generation.text


def test_end_of_generation_finishes_with_stop(backend: Backend) -> None:
    generation = backend.generate(GenerationRequest(messages=QUESTION, max_tokens=48))
    check_stats(generation)
    assert generation.finish_reason == "stop"
    assert generation.stats.generated_tokens < 48
    assert "4" in generation.text


def test_stop_string_cuts_the_text(backend: Backend) -> None:
    generation = backend.generate(GenerationRequest(messages=QUESTION, max_tokens=48, stop=("math",)))
    check_stats(generation)
    assert generation.finish_reason == "stop"
    assert "math" not in generation.text
    assert generation.text.startswith("The answer")


def test_prefix_of_a_repeated_prompt_is_reused(backend: Backend) -> None:
    request = GenerationRequest(messages=(Message("user", "Name a fruit."),), max_tokens=4)
    backend.generate(request)
    again = backend.generate(request)
    check_stats(again)
    if backend.capabilities.prefix_cache:
        assert again.stats.prompt_tokens_evaluated < again.stats.prompt_tokens
    # a cache never serves the whole prompt: the last token is evaluated again for its logits
    assert 1 <= again.stats.prompt_tokens_evaluated <= again.stats.prompt_tokens


def test_constrained_call_returns_a_schema_valid_ast(backend: Backend) -> None:
    messages = (
        Message("system", "You answer with JSON only."),
        Message(
            "user", 'What color is the sky on a clear day? Answer as {"color": ..., "sure": true|false}.'
        ),
    )
    generation = backend.generate(GenerationRequest(messages=messages, max_tokens=48, constraint=PICK))
    check_stats(generation)
    assert generation.error is None
    assert generation.finish_reason in ("grammar", "stop")
    SkyPick.model_validate_json(generation.text)
    assert generation.constrained is True
    if backend.capabilities.jump_forward:
        assert generation.stats.forced_tokens > 0  # '{"color": "' and '"sure": ' are forced


def test_unknown_grammar_engine_is_refused(backend: Backend) -> None:
    if backend.capabilities.native_tool_calls:
        # HTTP servers apply their own constraint machinery: no engine is offered to choose from.
        assert backend.capabilities.grammar_engines == ()
        return
    constraint = Constraint(json_schema=PICK.json_schema, name="pick", engine="no-such-engine")
    with pytest.raises(UnsupportedCapability):
        backend.generate(GenerationRequest(messages=QUESTION, max_tokens=4, constraint=constraint))


def test_memory_report_is_in_bytes(backend: Backend) -> None:
    report = backend.memory_report()
    assert all(isinstance(v, int) and v >= 0 for v in report.values())


# -- bad input: named errors, bounded time, nothing half-written ----------------------------------------


@pytest.mark.model
def test_llama_cpp_missing_and_truncated_files(tmp_path: Path, smollm2_gguf: Path) -> None:
    backend = create_backend("llama-cpp")
    missing = tmp_path / "absent.gguf"
    with pytest.raises(ModelLoadError, match=r"absent\.gguf"):
        backend.load(LoadConfig(str(missing)))
    truncated = tmp_path / "cut.gguf"
    with smollm2_gguf.open("rb") as source:
        truncated.write_bytes(source.read(1 << 20))
    with pytest.raises(ModelLoadError, match=r"cut\.gguf"):
        backend.load(LoadConfig(str(truncated)))


@pytest.mark.mlx
def test_mlx_refuses_what_is_not_an_mlx_model(tmp_path: Path, smollm2_mlx: Path) -> None:
    backend = create_backend("mlx")
    with pytest.raises(ModelLoadError, match="absent-folder"):
        backend.load(LoadConfig(str(tmp_path / "absent-folder")))
    plain = tmp_path / "just-notes"
    plain.mkdir()
    (plain / "README.md").write_text("not a model")
    with pytest.raises(ModelLoadError, match="just-notes"):
        backend.load(LoadConfig(str(plain)))
    broken = tmp_path / "broken-weights"
    broken.mkdir()
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        shutil.copy(smollm2_mlx / name, broken / name)
    (broken / "model.safetensors").write_bytes((smollm2_mlx / "model.safetensors").read_bytes()[:4096])
    with pytest.raises(ModelLoadError, match="broken-weights"):
        backend.load(LoadConfig(str(broken)))


# -- the fake's own promises (harness unit tests of other modules rely on them) --------------------------


def test_fake_replays_its_script_and_records_requests() -> None:
    fake = FakeBackend(["first", lambda request: f"echo {request.messages[-1].content}"])
    fake.load(LoadConfig(model="fake", options={"replies": ["third"]}))
    texts = [fake.generate(GenerationRequest(messages=(Message("user", f"q{i}"),))).text for i in range(3)]
    assert texts == ["first", "echo q1", "third"]
    assert [r.messages[0].content for r in fake.requests] == ["q0", "q1", "q2"]
    assert len(fake.generations) == 3 and fake.pending == 0
    with pytest.raises(BackendError, match="no scripted reply left"):
        fake.generate(GenerationRequest(prompt="one more"))


def test_fake_truncates_to_max_tokens_and_honours_stop_strings() -> None:
    fake = FakeBackend(
        ["one two three four five", "alpha beta STOP gamma", FakeReply("partial", "error", "boom")]
    )
    cut = fake.generate(GenerationRequest(prompt="p", max_tokens=3))
    assert (cut.text, cut.finish_reason, len(cut.tokens)) == ("one two three", "length", 3)
    stopped = fake.generate(GenerationRequest(prompt="p", stop=(" STOP",)))
    assert (stopped.text, stopped.finish_reason) == ("alpha beta", "stop")
    failed = fake.generate(GenerationRequest(prompt="p"))
    assert (failed.finish_reason, failed.error) == ("error", "boom")


def test_fake_ignore_mode_does_not_claim_enforcement() -> None:
    fake = FakeBackend(["not json at all"])
    generation = fake.generate(GenerationRequest(prompt="p", constraint=PICK))
    assert generation.constrained is False
    assert generation.text == "not json at all"
    assert fake.capabilities.grammar_engines == ()


def test_fake_enforce_mode_flags_scripts_no_grammar_could_produce() -> None:
    scripts = ['{"color": "blue", "sure": true}', '{"color": "purple", "sure": true}', "{oops"]
    fake = FakeBackend(scripts, constraint_mode="enforce")
    valid = fake.generate(GenerationRequest(prompt="p", constraint=PICK))
    assert (valid.finish_reason, valid.constrained, valid.engine) == ("grammar", True, "llguidance")
    wrong = fake.generate(GenerationRequest(prompt="p", constraint=PICK))
    assert wrong.finish_reason == "error" and wrong.error is not None and "color" in wrong.error
    broken = fake.generate(GenerationRequest(prompt="p", constraint=PICK))
    assert broken.finish_reason == "error" and broken.error is not None and "not JSON" in broken.error


def test_fake_stats_are_deterministic() -> None:
    def run() -> Generation:
        fake = FakeBackend(["a b c d"], seconds_per_token=0.5, prefill_seconds_per_token=0.25)
        return fake.generate(GenerationRequest(prompt="x y"))

    first, second = run(), run()
    assert first.stats == second.stats
    assert first.stats.generation_tps == pytest.approx(2.0)
    assert first.stats.prompt_seconds == pytest.approx(0.5)


@pytest.mark.model
@pytest.mark.server
@pytest.mark.slow
def test_http_streaming_against_the_real_server(llama_server: str) -> None:
    backend = create_backend("openai")
    backend.load(LoadConfig(llama_server, options={"stream": True, "server_enforces_schema": True}))
    pieces: list[str] = []
    plain = backend.generate(
        GenerationRequest(prompt=STORY, max_tokens=6), on_token=lambda token, piece: pieces.append(piece)
    )
    check_stats(plain)
    assert plain.finish_reason == "length"
    assert "".join(pieces) == plain.text
    assert len(plain.stats.token_times) == plain.stats.generated_tokens == 6
    messages = (Message("user", 'Sky color? Answer as {"color": ..., "sure": true|false}.'),)
    tool = backend.generate(GenerationRequest(messages=messages, max_tokens=48, constraint=PICK))
    check_stats(tool)
    SkyPick.model_validate_json(tool.text)
    backend.close()
