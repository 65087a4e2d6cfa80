"""Grammar engines over the real SmolLM2 vocabulary, driven by scripted logits (no forward pass).

The schemas are the ones `lapbench run` compiles (`runner.run.grammar.grammar_schema`, what `make_tool`
puts in every tool); a test below checks that a real run sends exactly these. A scripted source plays a
degenerate model: it always prefers the same tokens (whitespace, opening brackets, one letter), so the
caps in the grammar are the only thing that ends the output."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import llama_cpp
import numpy as np
import pytest
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict

from backends.base import ConstraintCompileError
from backends.fake import FakeBackend
from backends.grammar import TokenMatcher, gbnf_engine, llguidance_engine
from backends.grammar.decode import Sampling, run_decode
from runner.projects import suite_projects
from runner.run.config import RunConfig
from runner.run.grammar import GRAMMAR_MAX_WHITESPACE, TOOL_NAMES, grammar_schema
from runner.run.normalize import normalize_schema
from runner.run.run import execute_run, start_run
from runner.run.tools import RUN_TOOLS, make_tool
from runner.schemas import PARTS, PHASES
from tests.support.designer import answer

pytestmark = pytest.mark.model


class Tree(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str
    children: list[Tree]


class Vocab:
    def __init__(self, path: Path) -> None:
        self.llama = llama_cpp.Llama(str(path), vocab_only=True, verbose=False)
        self.vocab = llama_cpp.llama_model_get_vocab(self.llama.model)
        self.n_vocab = self.llama.n_vocab()
        self.eog = [t for t in range(self.n_vocab) if llama_cpp.llama_vocab_is_eog(self.vocab, t)]
        self.lltok = llguidance_engine.tokenizer_from_llama_vocab(self.vocab, eos_tokens=self.eog)

    def matcher(self, engine: str, schema: dict[str, Any], max_whitespace: int = 2) -> TokenMatcher:
        if engine == "llguidance":
            grammar = llguidance_engine.compile_json_schema(schema, self.lltok, max_whitespace=max_whitespace)
            return grammar.matcher()
        return gbnf_engine.compile_json_schema(
            schema, self.vocab, n_vocab=self.n_vocab, eog_tokens=self.eog, max_whitespace=max_whitespace
        ).matcher()

    def token(self, text: str) -> int:
        (token,) = self.llama.tokenize(text.encode(), add_bos=False, special=False)
        return int(token)


class ScriptedSource:
    """Logits that rank `preferred` tokens first (in order) at every step; everything else is equal."""

    def __init__(self, vocab: Vocab, preferred: Sequence[int]) -> None:
        self.vocab = vocab
        self.row = np.zeros(vocab.n_vocab, dtype=np.float32)
        for rank, token in enumerate(preferred):
            self.row[token] = 100.0 - rank
        self.batches: list[list[int]] = []

    def evaluate(self, tokens: Sequence[int]) -> bool:
        self.batches.append(list(tokens))
        return True

    def logits(self) -> NDArray[np.float32]:
        return self.row.copy()

    def token_bytes(self, token: int) -> bytes:
        return self.vocab.lltok.decode_bytes([token])


@pytest.fixture(scope="module")
def vocab(smollm2_gguf: Path) -> Iterator[Vocab]:
    loaded = Vocab(smollm2_gguf)
    yield loaded
    loaded.llama.close()


ENGINES = ("llguidance", "gbnf")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", TOOL_NAMES)
def test_every_tool_schema_compiles(vocab: Vocab, engine: str, name: str) -> None:
    matcher = vocab.matcher(engine, grammar_schema(name), GRAMMAR_MAX_WHITESPACE)
    assert matcher.allows(vocab.token("{"))
    assert not matcher.allows(vocab.token("hello"))


def test_a_run_compiles_exactly_the_schemas_tested_here(tmp_path: Path, vocab: Vocab) -> None:
    fake = FakeBackend([answer] * 100, constraint_mode="enforce")
    # the plain schemas (`--grammar schema`); tests/test_narrow.py covers the narrowed ones
    config = RunConfig(model="fake", model_label="fake", backend="fake", suite="smoke", grammar="schema")
    run_id = start_run(config, suite_projects("smoke"), tmp_path / "results.sqlite")
    execute_run(run_id, tmp_path / "results.sqlite", create_backend=lambda _name: fake)
    names = {make_tool(name).name: name for name in RUN_TOOLS}
    sent: dict[str, Any] = {}
    for request in fake.requests:
        assert request.constraint is not None
        assert request.constraint.max_whitespace == GRAMMAR_MAX_WHITESPACE
        sent.setdefault(names[request.constraint.name], request.constraint.json_schema)
    # database.file is only called when the analysis failed
    assert set(sent) == set(RUN_TOOLS) - {"database.file"}
    for name, schema in sent.items():
        assert schema == grammar_schema(name), name
        assert make_tool(name).json_schema == grammar_schema(name), name


@pytest.mark.parametrize("engine", ENGINES)
def test_uncompilable_schema_raises(vocab: Vocab, engine: str) -> None:
    bad = {"type": "object", "properties": {"a": {"$ref": "#/$defs/Missing"}}, "required": ["a"]}
    with pytest.raises(ConstraintCompileError, match=engine):
        vocab.matcher(engine, bad)


def test_llguidance_rejects_unknown_format(vocab: Vocab) -> None:
    with pytest.raises(ConstraintCompileError, match="llguidance"):
        vocab.matcher("llguidance", {"type": "string", "format": "no-such-format"})


def _decode(vocab: Vocab, matcher: TokenMatcher, preferred: Sequence[int], **options: Any) -> Any:
    source = ScriptedSource(vocab, preferred)
    sampling = Sampling(**{"max_tokens": 400, **options})
    return run_decode(source, sampling=sampling, eog_tokens=vocab.eog, matcher=matcher), source


@pytest.mark.parametrize("engine", ENGINES)
def test_looping_model_is_cut_by_depth_list_and_whitespace_caps(vocab: Vocab, engine: str) -> None:
    schema = normalize_schema(Tree, max_depth=2, max_items=2, max_string=4)
    loop = [vocab.token(t) for t in (" ", "\n", "[", "{", '"', "x")]
    result, _ = _decode(vocab, vocab.matcher(engine, schema, max_whitespace=2), loop, max_tokens=2000)
    assert result.finish_reason == "grammar", result.error
    tree = Tree.model_validate_json(result.text)
    between_tokens = re.sub(r'"(?:[^"\\]|\\.)*"', '""', result.text)
    assert max(len(run) for run in re.findall(r"\s+", between_tokens)) <= 2

    def depth(node: Tree) -> int:
        return 1 + max((depth(child) for child in node.children), default=0)

    assert depth(tree) == 3  # the degenerate model nests as deep as allowed: root + 2 levels
    assert len(tree.children) == 2  # and makes every list as long as allowed


@pytest.mark.parametrize("engine", ENGINES)
def test_token_budget_ends_an_endless_string(vocab: Vocab, engine: str) -> None:
    schema = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
    result, _ = _decode(vocab, vocab.matcher(engine, schema), [vocab.token("x")], max_tokens=40)
    assert result.finish_reason == "length" and len(result.tokens) == 40


def test_jump_forward_batches_forced_tokens_and_counts_them(vocab: Vocab) -> None:
    schema = grammar_schema("database.table")
    preferred = [vocab.token(t) for t in ("x", "a", "]", "}", '"', "true", "0")]
    free_run, free_src = _decode(vocab, vocab.matcher("llguidance", schema, 0), preferred, jump_forward=False)
    jump_run, jump_src = _decode(vocab, vocab.matcher("llguidance", schema, 0), preferred, jump_forward=True)
    for run in (free_run, jump_run):
        assert run.finish_reason == "grammar", run.error
        PARTS["database.table"].model_validate_json(run.text)
    assert free_run.forced_tokens == 0 and jump_run.forced_tokens > 0
    assert jump_run.text == free_run.text
    assert len(jump_src.batches) < len(free_src.batches)
    assert any(len(batch) > 1 for batch in jump_src.batches)


def test_single_document_grammar_is_byte_identical_with_and_without_jump_forward(vocab: Vocab) -> None:
    document = {"kind": "apiCall", "method": "get", "path": "/articles/{articleId}", "variable": None}
    schema = {"const": document}
    runs = []
    for jump in (False, True):
        matcher = vocab.matcher("llguidance", schema, max_whitespace=0)
        result, _ = _decode(vocab, matcher, [vocab.token(" ")], jump_forward=jump)
        assert result.finish_reason == "grammar", result.error
        runs.append(result)
    assert runs[0].text.encode() == runs[1].text.encode()
    assert json.loads(runs[0].text) == document
    assert runs[1].forced_tokens == len(runs[1].tokens) and runs[0].forced_tokens == 0


def test_ignore_eos_restarts_a_finished_document(vocab: Vocab) -> None:
    schema = {
        "type": "object",
        "properties": {"ok": {"type": "boolean"}},
        "required": ["ok"],
        "additionalProperties": False,
    }
    matcher = vocab.matcher("llguidance", schema, max_whitespace=0)
    result, _ = _decode(vocab, matcher, [vocab.eog[0], vocab.token("true")], max_tokens=30, ignore_eos=True)
    assert result.finish_reason == "length" and len(result.tokens) == 30
    assert result.text.startswith('{"ok":true}{"ok":true}')


def test_sampling_with_temperature_stays_inside_the_grammar(vocab: Vocab) -> None:
    # llguidance only: GBNF's converter drops maxLength next to a pattern, so random ids never end there
    schema = grammar_schema("analyze")
    # a flat distribution: almost every sampled candidate is rejected and redrawn from the masked row
    source = ScriptedSource(vocab, [])
    sampling = Sampling(max_tokens=600, temperature=1.0, top_p=0.9, seed=3)
    result = run_decode(
        source, sampling=sampling, eog_tokens=vocab.eog, matcher=vocab.matcher("llguidance", schema, 0)
    )
    assert result.finish_reason == "grammar", result.error
    PHASES["analyze"].model_validate_json(result.text)
