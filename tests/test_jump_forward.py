"""Jump-forward on the tool calls `lapbench run` makes: how much of a real answer the tool grammar forces
(replayed over the real SmolLM2 vocabulary), the key tails llguidance holds back, and a forced answer that
ends the document is not evaluated."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import llama_cpp
import numpy as np
import pytest
from numpy.typing import NDArray

from backends.grammar import llguidance_engine
from backends.grammar.decode import Sampling, run_decode
from backends.grammar.replay import replay_forced
from runner.gold import load_gold
from runner.run.grammar import GRAMMAR_MAX_WHITESPACE, grammar_schema

pytestmark = pytest.mark.model


class Vocab:
    def __init__(self, path: Path) -> None:
        self.llama = llama_cpp.Llama(str(path), vocab_only=True, verbose=False)
        vocab = llama_cpp.llama_model_get_vocab(self.llama.model)
        self.eog = [t for t in range(self.llama.n_vocab()) if llama_cpp.llama_vocab_is_eog(vocab, t)]
        self.lltok = llguidance_engine.tokenizer_from_llama_vocab(vocab, eos_tokens=self.eog)

    def grammar(self, schema: dict[str, object]) -> llguidance_engine.LlguidanceGrammar:
        return llguidance_engine.compile_json_schema(
            schema, self.lltok, max_whitespace=GRAMMAR_MAX_WHITESPACE
        )

    def tokens(self, value: object) -> list[int]:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        return list(self.llama.tokenize(text.encode(), add_bos=False, special=False))


@pytest.fixture(scope="module")
def vocab(smollm2_gguf: Path) -> Iterator[Vocab]:
    loaded = Vocab(smollm2_gguf)
    yield loaded
    loaded.llama.close()


def test_a_gold_table_is_mostly_forced_and_key_tails_are_forced_too(vocab: Vocab) -> None:
    grammar = vocab.grammar(grammar_schema("database.table"))
    tables = [t for f in load_gold("todo").data["database"]["files"] for t in f["tables"]]
    eager = held_back = 0
    for table in tables[:2]:
        tokens = vocab.tokens(table)
        replay = replay_forced(grammar.matcher(), tokens)
        assert replay.rejected_at is None and replay.tokens == len(tokens)
        eager += replay.forced
        # the same replay with llguidance's own forced tokens only
        held_back += replay_forced(grammar.matcher(eager=False), tokens).forced
    total = sum(len(vocab.tokens(t)) for t in tables[:2])
    assert eager / total > 0.45  # names, fixed keys, enum tails and brackets: about half of a table
    assert eager > held_back + 4  # a `":"` per key is no longer left to the model


def test_forced_tokens_spell_what_the_grammar_forces_and_are_accepted(vocab: Vocab) -> None:
    matcher = vocab.grammar(grammar_schema("database.table")).matcher()
    forced = matcher.forced_tokens()
    assert vocab.lltok.decode_bytes(forced) == b'{"name":"'
    assert all(matcher.consume(t) for t in forced)
    assert not matcher.forced_tokens()  # a name is the model's to write


def test_replay_counts_a_refused_answer_up_to_the_refusal(vocab: Vocab) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string", "maxLength": 3}}, "required": ["a"]}
    tokens = vocab.tokens({"a": "a string far longer than three characters"})
    replay = replay_forced(vocab.grammar(schema).matcher(), tokens)
    assert replay.rejected_at is not None and 0 < replay.rejected_at < len(tokens)
    assert replay.tokens == len(tokens)


class CountingSource:
    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab
        self.evaluated: list[Sequence[int]] = []

    def evaluate(self, tokens: Sequence[int]) -> bool:
        self.evaluated.append(list(tokens))
        return True

    def logits(self) -> NDArray[np.float32]:
        return np.zeros(self.vocab.llama.n_vocab(), dtype=np.float32)

    def token_bytes(self, token: int) -> bytes:
        return self.vocab.lltok.decode_bytes([token])


def test_an_answer_forced_to_its_end_is_not_evaluated(vocab: Vocab) -> None:
    table = load_gold("todo").data["database"]["files"][0]["tables"][0]
    source = CountingSource(vocab)
    matcher = vocab.grammar({"const": table}).matcher()
    result = run_decode(source, sampling=Sampling(max_tokens=1000), eog_tokens=vocab.eog, matcher=matcher)
    assert result.finish_reason == "grammar" and json.loads(result.text) == table
    assert result.forced_tokens == len(result.tokens) > 50
    # nothing can follow the document: evaluating its tokens would serve nothing
    assert source.evaluated == []
