"""The constraint compilers of one loaded llama.cpp model: llguidance and GBNF, compiled once per schema.

Both point into the model's vocabulary, so `close()` must run before the model is freed.
"""

from __future__ import annotations

import json
from typing import Any

from backends.base import Constraint, UnsupportedCapability
from backends.grammar import ENGINE_NAMES, TokenMatcher, gbnf_engine, llguidance_engine


class Grammars:
    """Matchers for `Constraint`s over one vocabulary (`llama_cpp.llama_model_get_vocab(model)`)."""

    def __init__(self, vocab: Any, n_vocab: int, eog_tokens: list[int]) -> None:
        self._vocab = vocab
        self._n_vocab = n_vocab
        self._eog = eog_tokens
        self._lltokenizer: Any = None
        self._gbnf: dict[tuple[str, int], gbnf_engine.GbnfGrammar] = {}

    def matcher(self, constraint: Constraint) -> TokenMatcher:
        """A fresh matcher for `constraint`; ConstraintCompileError if the engine cannot compile it."""
        if constraint.engine == "llguidance":
            if self._lltokenizer is None:
                # ~0.3 s, once per model: the first constrained call pays it
                self._lltokenizer = llguidance_engine.tokenizer_from_llama_vocab(
                    self._vocab, eos_tokens=self._eog
                )
            grammar = llguidance_engine.compile_json_schema(
                constraint.json_schema,
                self._lltokenizer,
                name=constraint.name,
                max_whitespace=constraint.max_whitespace,
            )
            return grammar.matcher()
        if constraint.engine == "gbnf":
            key = (json.dumps(constraint.json_schema, sort_keys=True), constraint.max_whitespace)
            if key not in self._gbnf:
                self._gbnf[key] = gbnf_engine.compile_json_schema(
                    constraint.json_schema,
                    self._vocab,
                    n_vocab=self._n_vocab,
                    eog_tokens=self._eog,
                    name=constraint.name,
                    max_whitespace=constraint.max_whitespace,
                )
            return self._gbnf[key].matcher()
        raise UnsupportedCapability(
            f"llama-cpp backend has no grammar engine {constraint.engine!r} (available: {', '.join(ENGINE_NAMES)})"
        )

    def close(self) -> None:
        if self._lltokenizer is not None:
            llguidance_engine.forget_tokenizer(self._lltokenizer)
            self._lltokenizer = None
        self._gbnf.clear()
