"""Prompt reuse across calls: the byte-bounded store of saved states, and restoring a saved prefix on the real
default model through llama.cpp and MLX gives the logits of evaluating it afresh."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backends.base import BackendError, GenerationRequest, LoadConfig, Message
from backends.prefix_cache import PrefixStore, max_bytes_option

SHARED = (
    "You design the database of a web application. Answer with one JSON object and nothing else. "
    "Project: a todo list app where members create lists, add todo items with a due date, mark them done "
    "and share a list with other members, who may only read it. "
)
FIRST = SHARED + "Write the table of the members."
OTHER = "Translate into French: the cat sleeps on the warm window sill all afternoon."
SECOND = SHARED + "Write the table of the todo items, with a foreign key to its list."
THREADS = 1  # the CI machine has 2 shared cores (see tests/test_llama_cpp.py)
# Same weights, same tokens: only the summation order of the batches differs (the prefix was evaluated in
# an earlier batch), so the rows agree to float32 rounding, far below any gap between top tokens.
ATOL = 2e-3


# -- the store -------------------------------------------------------------------------------------------


def test_longest_prefix_wins_and_prefixes_of_newer_states_are_dropped() -> None:
    store: PrefixStore[str] = PrefixStore(max_bytes=1000)
    store.add([1, 2, 3], "a", 10)
    store.add([1, 2, 3, 4, 5], "b", 10)  # extends a: a is dropped
    store.add([1, 9], "c", 10)
    assert len(store) == 2 and store.total_bytes == 20
    saved, n = store.longest([1, 2, 3, 4, 7])
    assert saved is not None and (saved.state, n) == ("b", 4)
    saved, n = store.longest([1, 9, 9])
    assert saved is not None and (saved.state, n) == ("c", 2)
    assert store.longest([5, 5]) == (None, 0)
    assert store.covers([1, 2]) and not store.covers([1, 2, 3, 4, 5, 6])


def test_a_state_mostly_repeated_by_a_newer_one_is_replaced() -> None:
    store: PrefixStore[str] = PrefixStore(max_bytes=1000)
    instructions = list(range(100))
    store.add([*instructions, 7, 7, 7], "first task", 10)
    store.add([*range(10), *[5] * 30], "other tool", 10)  # shares only the first 10 (a system prompt)
    store.add([*instructions, 8, 8], "second task", 10)  # repeats 100 of the first's 103 tokens
    assert sorted(saved.state for saved in store) == ["other tool", "second task"]
    saved, n = store.longest([*instructions, 9])
    assert saved is not None and (saved.state, n) == ("second task", 100)


def test_least_recently_used_state_goes_first() -> None:
    store: PrefixStore[str] = PrefixStore(max_bytes=30)
    for i, name in enumerate("abc"):
        store.add([i, i], name, 10)
    store.longest([0, 0])  # a is used again: b is now the oldest
    store.add([7], "d", 10)
    assert {store.longest([k, k])[0].state for k in (0, 2, 7) if store.longest([k, k])[0]} == {"a", "c", "d"}
    assert store.longest([1, 1]) == (None, 0)
    assert not store.add([8], "too big", 31) and len(store) == 3


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.lists(st.integers(0, 5), min_size=1, max_size=12), st.integers(1, 400)),
        min_size=1,
        max_size=80,
    ),
    st.integers(0, 1000),
)
def test_many_distinct_prefixes_stay_under_the_bound(states: list[tuple[list[int], int]], bound: int) -> None:
    store: PrefixStore[int] = PrefixStore(max_bytes=bound)
    for tokens, nbytes in states:
        store.add(tokens, nbytes, nbytes)
        assert store.total_bytes == sum(saved.nbytes for saved in store) <= bound
    if states[-1][1] <= bound:  # the newest state is always kept when it fits alone
        newest = states[-1][0]
        assert store.covers(newest)


def test_the_bound_is_an_option_in_mib() -> None:
    assert max_bytes_option({"prefix_cache_mb": 2}) == 2 << 20
    assert max_bytes_option({"prefix_cache_mb": 0}) == 0
    assert max_bytes_option({}, default=5) == 5
    with pytest.raises(BackendError, match="prefix_cache_mb"):
        max_bytes_option({"prefix_cache_mb": "lots"})


# -- llama.cpp -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def llama(smollm2_gguf: Path) -> Iterator[Any]:
    import llama_cpp

    llm = llama_cpp.Llama(
        model_path=str(smollm2_gguf), n_ctx=1024, n_batch=512, n_threads=THREADS, verbose=False
    )
    yield llm
    llm.close()


@pytest.mark.model
def test_llama_cpp_restored_prefix_gives_the_logits_of_a_fresh_evaluation(llama: Any) -> None:
    from backends.llama_cpp.prefix_cache import SavedStates
    from backends.llama_cpp.sequence import KvSequence

    sequence = KvSequence(llama.ctx, llama.n_ctx(), llama.n_batch, llama.n_vocab())
    saved = SavedStates(max_bytes=64 << 20)
    tokenize = lambda text: llama.tokenize(text.encode(), add_bos=True)  # noqa: E731
    first, other, second = tokenize(FIRST), tokenize(OTHER), tokenize(SECOND)
    shared = len(tokenize(SHARED)) - 1  # the last shared token may merge with what follows
    try:
        for prompt in (first, other):
            kept = saved.reuse(sequence, prompt)
            assert sequence.evaluate(prompt[kept:])
            saved.save(sequence)
        assert len(saved.store) == 2
        kept = saved.reuse(sequence, second)  # the live cache holds `other`: the saved `first` serves more
        assert shared <= kept < len(second)
        assert sequence.evaluate(second[kept:])
        restored = sequence.logits().copy()
        sequence.clear()
        assert sequence.evaluate(second)
        fresh = sequence.logits().copy()
    finally:
        sequence.close()
    assert int(np.argmax(restored)) == int(np.argmax(fresh))
    np.testing.assert_allclose(restored, fresh, atol=ATOL, rtol=0)


@pytest.mark.model
def test_llama_cpp_backend_reuses_saved_prefixes_across_calls_within_its_bound(smollm2_gguf: Path) -> None:
    from backends.llama_cpp.backend import LlamaCppBackend

    def calls(options: dict[str, Any], extra: int) -> tuple[list[int], list[str], int]:
        backend = LlamaCppBackend()
        backend.load(LoadConfig(str(smollm2_gguf), n_ctx=1024, n_threads=THREADS, options=options))
        evaluated, texts = [], []
        try:
            prompts = [FIRST, OTHER] + [f"Number {i}. {OTHER}" for i in range(extra)] + [SECOND]
            for text in prompts:
                request = GenerationRequest(messages=(Message("user", text),), max_tokens=8)
                generation = backend.generate(request)
                evaluated.append(generation.stats.prompt_tokens_evaluated)
                texts.append(generation.text)
            held = backend.memory_report()["prefix_cache_bytes"]
        finally:
            backend.close()
        return evaluated, texts, held

    live_only, live_texts, held = calls({"prefix_cache_mb": 0}, 0)
    assert held == 0
    reused, texts, held = calls({"prefix_cache_mb": 64}, 0)
    assert texts == live_texts  # greedy decoding: restoring a state changes no output
    assert reused[:2] == live_only[:2] and reused[2] < live_only[2] // 3
    bound = 3  # MiB: ~130 tokens of this model's KV cache each, so a few states at most
    _, _, held = calls({"prefix_cache_mb": bound}, 12)
    assert 0 < held <= bound << 20


# -- MLX -------------------------------------------------------------------------------------------------


@pytest.mark.model
@pytest.mark.mlx
def test_mlx_restored_prefix_gives_the_logits_of_a_fresh_evaluation(smollm2_mlx: Path) -> None:
    pytest.importorskip("mlx_lm")
    import mlx.core as mx
    from mlx_lm.utils import load as mlx_load

    from backends.mlx.prompt_cache import PromptCache

    model, tokenizer = mlx_load(str(smollm2_mlx))[:2]
    tokenize = lambda text: list(tokenizer.encode(text))  # noqa: E731
    first, other, second = tokenize(FIRST), tokenize(OTHER), tokenize(SECOND)
    shared = len(tokenize(SHARED)) - 1
    cache = PromptCache(model, max_bytes=64 << 20)
    for prompt in (first, other):
        _, kept = cache.reuse(prompt)
        cache.prefill(prompt[kept:], 512)
        cache.remember(prompt)
    assert len(cache.saved) == 2
    _, kept = cache.reuse(second)
    assert shared <= kept < len(second)
    restored = np.array(cache.prefill(second[kept:], 512).astype(mx.float32))
    cache.remember(second)
    fresh_cache = PromptCache(model, max_bytes=0)
    fresh_cache.reuse(second)
    fresh = np.array(fresh_cache.prefill(second, 512).astype(mx.float32))
    assert int(np.argmax(restored)) == int(np.argmax(fresh))
    np.testing.assert_allclose(restored, fresh, atol=ATOL, rtol=0)
    assert 0 < cache.saved.total_bytes <= 64 << 20
