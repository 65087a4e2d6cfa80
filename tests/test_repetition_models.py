"""The repetition options reach the real decode loops (llama.cpp under a grammar, MLX in free mode), and
--think is refused for a model without a thinking format."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backends.base import (
    Constraint,
    GenerationRequest,
    LoadConfig,
    Message,
    RepetitionControl,
    UnsupportedCapability,
)
from backends.repetition import dry_repeat_lengths

pytestmark = pytest.mark.model

LOOP_PROMPT = "cat dog cat dog cat dog cat dog cat dog cat dog cat dog"
DRY = RepetitionControl(dry_multiplier=2.0, dry_base=1.75, dry_allowed_length=2, dry_breakers=())
LIST_SCHEMA = {"type": "array", "items": {"type": "string", "maxLength": 12}, "minItems": 6, "maxItems": 6}


def test_dry_changes_llama_cpp_tokens_under_a_grammar_and_think_is_refused(smollm2_gguf: Path) -> None:
    from backends.llama_cpp.backend import LlamaCppBackend

    backend = LlamaCppBackend()
    backend.load(LoadConfig(str(smollm2_gguf), n_ctx=256))
    try:
        constraint = Constraint(json_schema=LIST_SCHEMA, name="pets")
        base = GenerationRequest(
            prompt=f'{LOOP_PROMPT}\nThe same as a JSON list: ["cat","dog",', max_tokens=40
        )
        plain = backend.generate(GenerationRequest(**{**base.__dict__, "constraint": constraint}))
        penalised = backend.generate(
            GenerationRequest(**{**base.__dict__, "constraint": constraint, "repetition": DRY})
        )
        thinking = GenerationRequest(messages=(Message("user", "hi"),), constraint=constraint, think_tokens=8)
        with pytest.raises(
            UnsupportedCapability, match=f"^{re.escape(str(smollm2_gguf))}: its chat template has no thinking"
        ):
            backend.generate(thinking)
    finally:
        backend.close()
    assert plain.error is None and penalised.error is None
    assert plain.tokens != penalised.tokens
    # still a document of the grammar: the penalty acts before the mask, never around it
    assert penalised.constrained and penalised.text.startswith("[")


@pytest.mark.mlx
def test_dry_changes_the_tokens_of_mlx_free_decoding(smollm2_mlx: Path) -> None:
    from backends.mlx.backend import MlxBackend

    backend = MlxBackend()
    backend.load(LoadConfig(str(smollm2_mlx), n_ctx=256))
    try:
        plain = backend.generate(GenerationRequest(prompt=LOOP_PROMPT, max_tokens=16))
        penalised = backend.generate(GenerationRequest(prompt=LOOP_PROMPT, max_tokens=16, repetition=DRY))
    finally:
        backend.close()
    assert plain.tokens != penalised.tokens
    import numpy as np

    def longest_repeat(tokens: tuple[int, ...]) -> int:
        array = np.asarray(tokens, dtype=np.intp)
        found = dry_repeat_lengths(array, np.zeros(array.size, dtype=bool), allowed_length=1)
        return max(found.values(), default=0)

    assert longest_repeat(penalised.tokens) < longest_repeat(plain.tokens)
