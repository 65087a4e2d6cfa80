"""Repetition penalties (backends.repetition) on their own and inside the shared decode loop."""

from __future__ import annotations

import numpy as np

from backends.base import RepetitionControl
from backends.grammar.decode import Sampling, run_decode
from backends.repetition import RepetitionPenalizer, dry_penalty, dry_repeat_lengths, presence_frequency
from tests.support.looping_source import EOS, LETTERS, LoopingSource


def ids(text: str) -> np.ndarray:
    return np.asarray([LETTERS.index(c) for c in text], dtype=np.intp)


def no_breakers(text: str) -> np.ndarray:
    return np.zeros(len(text), dtype=bool)


def test_dry_finds_the_token_that_would_extend_each_repeat() -> None:
    # llama.cpp's worked example: "a b c c b c y a b c" -> c would make "a b c c" (3), b "c b" (1), y "b c y" (2)
    text = "abccbcgabc"  # g stands for y
    found = dry_repeat_lengths(ids(text), no_breakers(text), allowed_length=1)
    assert found == {LETTERS.index("c"): 3, LETTERS.index("b"): 1, LETTERS.index("g"): 2}
    assert dry_repeat_lengths(ids(text), no_breakers(text), allowed_length=3) == {LETTERS.index("c"): 3}


def test_a_breaker_limits_how_far_back_a_repeat_reaches() -> None:
    text = "abcdabcdab"
    free = dry_repeat_lengths(ids(text), no_breakers(text), allowed_length=2)
    assert free == {LETTERS.index("c"): 6}
    broken = no_breakers(text)
    broken[7] = True  # the "d" before the last "ab": repeats may reach back two tokens only
    assert dry_repeat_lengths(ids(text), broken, allowed_length=2) == {LETTERS.index("c"): 2}
    broken[8] = True
    assert dry_repeat_lengths(ids(text), broken, allowed_length=2) == {}


def test_penalties_follow_llama_cpp_formulas() -> None:
    control = RepetitionControl(dry_multiplier=0.8, dry_base=1.75, dry_allowed_length=2)
    assert dry_penalty(control, 2) == 0.8
    assert abs(dry_penalty(control, 4) - 0.8 * 1.75**2) < 1e-9
    assert np.isfinite(dry_penalty(control, 10_000))
    row = np.zeros(len(LETTERS), dtype=np.float32)
    presence_frequency(row, ids("aab"), presence=0.5, frequency=0.25)
    assert row.tolist()[:3] == [-1.0, -0.75, 0.0]


def test_penalizer_skips_breaker_candidates_and_off_means_untouched() -> None:
    history = list(ids("abcab"))
    control = RepetitionControl(dry_multiplier=1.0, dry_allowed_length=2, dry_breakers=("c",))
    row = np.zeros(len(LETTERS), dtype=np.float32)
    RepetitionPenalizer(control, lambda t: LETTERS[t].encode()).apply(row, history)
    assert not row.any()  # "c" would extend "ab" but is itself a breaker
    off = RepetitionControl()
    assert not off.active
    RepetitionPenalizer(off, lambda t: LETTERS[t].encode()).apply(row, history)
    assert not row.any()


def decode(control: RepetitionControl | None) -> str:
    source = LoopingSource("abc", period=3)
    result = run_decode(source, sampling=Sampling(max_tokens=24, repetition=control), eog_tokens=[EOS])
    return result.text


def test_the_penalty_changes_the_output_of_a_looping_source() -> None:
    looped = decode(None)
    assert looped == "abc" * 8
    dry = decode(RepetitionControl(dry_multiplier=0.8, dry_base=1.75, dry_allowed_length=2, dry_breakers=()))
    assert dry != looped
    # the penalty grows with the repeat: 0.8 * 1.75**3 outweighs the source's margin of 4 at a repeat of 5
    assert dry.startswith("abcab") and not dry.startswith("abcabc" + "abc"), dry
    presence = decode(RepetitionControl(presence_penalty=5.0, window=3))
    assert presence != looped and "abca" not in presence
