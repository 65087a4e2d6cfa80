"""Drive a real llguidance matcher over the SmolLM2 vocabulary with a scripted text: the tokens a model
would generate for it, offered one at a time as a decode loop does (no forward pass)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import llama_cpp

from backends.grammar import llguidance_engine
from runner.run.grammar import GRAMMAR_MAX_WHITESPACE


class LlguidanceText:
    """A vocabulary-only SmolLM2 and its llguidance tokenizer; `close()` when done."""

    def __init__(self, gguf: Path) -> None:
        self.llama = llama_cpp.Llama(str(gguf), vocab_only=True, verbose=False)
        vocab = llama_cpp.llama_model_get_vocab(self.llama.model)
        eog = [t for t in range(self.llama.n_vocab()) if llama_cpp.llama_vocab_is_eog(vocab, t)]
        self.tokenizer = llguidance_engine.tokenizer_from_llama_vocab(vocab, eos_tokens=eog)

    def refused_at(self, schema: Mapping[str, Any], text: str) -> str | None:
        """The text the grammar admitted before it refused a token of `text` (None: all of `text` was
        admitted and the grammar accepts it as a whole document). Compiles `schema` as a run does."""
        grammar = llguidance_engine.compile_json_schema(
            schema, self.tokenizer, max_whitespace=GRAMMAR_MAX_WHITESPACE
        )
        matcher = grammar.matcher()
        done: list[int] = []
        for token in self.tokenizer.tokenize_bytes(text.encode()):
            if not matcher.allows(token):
                return self.tokenizer.decode_bytes(done).decode(errors="replace")
            matcher.consume(token)
            done.append(token)
        return None if matcher.is_accepting() else text

    def close(self) -> None:
        self.llama.close()
