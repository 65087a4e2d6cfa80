"""The llama.cpp backend on the real SmolLM2 model: loading, tokens, stats, prefix reuse, grammars."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from backends.base import (
    Backend,
    Constraint,
    GenerationRequest,
    LoadConfig,
    Message,
    ModelLoadError,
    UnsupportedCapability,
)
from backends.llama_cpp.backend import LlamaCppBackend
from runner.run.grammar import grammar_schema
from runner.schemas import PHASES

pytestmark = pytest.mark.model

MESSAGES = (
    Message("system", "You design databases for web applications. Answer with JSON only."),
    Message("user", "Write the table that stores the articles of a blog."),
)
ANALYZE = (
    Message("system", "You analyse requirements. Answer with JSON only."),
    Message("user", "Analyse: a todo list app where members create, edit and delete their own todo items."),
)
# One thread: the CI machine has 2 cores shared with other jobs, and spinning llama.cpp threads that
# lose their core make a 2-thread decode 50x slower there.
THREADS = 1


@pytest.fixture(scope="module")
def backend(smollm2_gguf: Path) -> Iterator[LlamaCppBackend]:
    loaded = LlamaCppBackend()
    loaded.load(LoadConfig(str(smollm2_gguf), n_ctx=2048, n_threads=THREADS, seed=1))
    yield loaded
    loaded.close()


def test_is_a_backend(backend: LlamaCppBackend) -> None:
    assert isinstance(backend, Backend)
    assert backend.name == "llama-cpp"
    assert backend.template is not None and backend.template.origin == "gguf"


def test_missing_truncated_and_foreign_files_are_refused(tmp_path: Path, smollm2_gguf: Path) -> None:
    fresh = LlamaCppBackend()
    missing = tmp_path / "nope.gguf"
    with pytest.raises(ModelLoadError, match=str(missing)):
        fresh.load(LoadConfig(str(missing)))
    foreign = tmp_path / "foreign.gguf"
    foreign.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(ModelLoadError, match="not a GGUF"):
        fresh.load(LoadConfig(str(foreign)))
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(smollm2_gguf.read_bytes()[: 1 << 20])
    with pytest.raises(ModelLoadError, match=str(truncated)):
        fresh.load(LoadConfig(str(truncated)))


def test_tokenize_detokenize_round_trip(backend: LlamaCppBackend) -> None:
    text = 'CREATE TABLE "articles" (id uuid) — naïve café <|im_end|> 123'
    tokens = backend.tokenize(text)
    assert backend.detokenize(tokens) == text
    assert backend.tokenize("hi", add_special=False) == backend.tokenize("hi")


def test_free_generation_fills_every_stat(backend: LlamaCppBackend) -> None:
    seen: list[int] = []
    generation = backend.generate(
        GenerationRequest(messages=MESSAGES, max_tokens=12, ignore_eos=True),
        on_token=lambda token, text: seen.append(token),
    )
    stats = generation.stats
    assert generation.finish_reason == "length" and not generation.constrained
    assert stats.generated_tokens == 12 == len(generation.tokens) == len(seen) == len(stats.token_times)
    assert list(generation.tokens) == seen
    assert stats.prompt_tokens >= stats.prompt_tokens_evaluated > 0
    assert 0 < stats.prompt_seconds <= stats.time_to_first_token == stats.token_times[0]
    assert stats.generation_seconds == pytest.approx(stats.token_times[-1] - stats.token_times[0])
    assert list(stats.token_times) == sorted(stats.token_times)
    assert stats.forced_tokens == 0 and stats.mask_seconds == 0.0
    assert stats.peak_memory_bytes is not None and stats.peak_memory_bytes > 90_000_000
    assert generation.text == backend.detokenize(generation.tokens)


def test_prefix_reuse_evaluates_only_the_new_suffix(backend: LlamaCppBackend) -> None:
    first = backend.generate(GenerationRequest(messages=MESSAGES, max_tokens=2))
    longer = (*MESSAGES, Message("assistant", "{}"), Message("user", "Add a title column."))
    second = backend.generate(GenerationRequest(messages=longer, max_tokens=2))
    assert second.stats.prompt_tokens > first.stats.prompt_tokens
    assert second.stats.prompt_tokens_evaluated < second.stats.prompt_tokens - first.stats.prompt_tokens + 8
    again = backend.generate(GenerationRequest(messages=longer, max_tokens=2))
    assert again.stats.prompt_tokens_evaluated == 1  # only the replayed last token
    assert again.tokens == second.tokens  # greedy and the same cache state: same answer


def test_stop_string_and_eos(backend: LlamaCppBackend) -> None:
    generation = backend.generate(GenerationRequest(prompt="1, 2, 3, 4,", max_tokens=30, stop=("7",)))
    assert generation.finish_reason == "stop" and "7" not in generation.text
    short = backend.generate(GenerationRequest(messages=(Message("user", "Say hi."),), max_tokens=200))
    assert short.finish_reason == "stop" and short.stats.generated_tokens < 200


@pytest.mark.parametrize("engine", ["llguidance", "gbnf"])
def test_constrained_output_validates_under_each_engine(backend: LlamaCppBackend, engine: str) -> None:
    schema = grammar_schema("analyze", max_items=2, max_string=40)
    constraint = Constraint(schema, name="write_analyze", engine=engine, max_whitespace=0)
    generation = backend.generate(GenerationRequest(messages=ANALYZE, max_tokens=400, constraint=constraint))
    assert generation.constrained and generation.engine == engine
    assert generation.finish_reason == "grammar", (generation.error, generation.text)
    PHASES["analyze"].model_validate(json.loads(generation.text))
    assert generation.stats.mask_seconds > 0
    if engine == "llguidance":
        assert generation.stats.forced_tokens > 0
    else:
        assert generation.stats.forced_tokens == 0


def test_jump_forward_outputs_validate_and_need_fewer_decode_steps(backend: LlamaCppBackend) -> None:
    schema = grammar_schema("analyze", max_items=2, max_string=40)
    runs = {}
    for jump in (False, True):
        constraint = Constraint(schema, jump_forward=jump, max_whitespace=0)
        runs[jump] = backend.generate(
            GenerationRequest(messages=ANALYZE, max_tokens=400, constraint=constraint)
        )
        assert runs[jump].finish_reason == "grammar"
        PHASES["analyze"].model_validate_json(runs[jump].text)
    assert runs[True].stats.forced_tokens > 0 == runs[False].stats.forced_tokens
    assert backend.last_perf["n_eval"] < runs[True].stats.generated_tokens


def test_unknown_engine_is_refused(backend: LlamaCppBackend) -> None:
    with pytest.raises(UnsupportedCapability, match="xgrammar"):
        backend.generate(
            GenerationRequest(prompt="x", constraint=Constraint({"type": "string"}, engine="xgrammar"))
        )


def test_memory_report(backend: LlamaCppBackend) -> None:
    report = backend.memory_report()
    assert report["model_bytes"] > 90_000_000
    assert report["kv_bytes"] > 0 and report["compute_bytes"] > 0


def test_gemma_base_model_gets_the_fallback_template(gemma_gguf: Path) -> None:
    gemma = LlamaCppBackend()
    gemma.load(LoadConfig(str(gemma_gguf), n_ctx=256, n_threads=THREADS))
    try:
        assert gemma.template is not None and gemma.template.origin == "fallback"
        assert gemma.template.note and "no chat template" in gemma.template.note
        generation = gemma.generate(GenerationRequest(messages=(Message("user", "Hello"),), max_tokens=3))
        assert generation.stats.prompt_tokens > 2 and generation.stats.generated_tokens <= 3
    finally:
        gemma.close()
