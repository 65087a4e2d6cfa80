"""Random test data, from one seeded `random.Random` per test function (a run is reproducible): the
random-data expressions of the test AST (`stringRandom`, `patternRandom`, `formatRandom`, ...).

`pattern` draws a string matching a regular expression: literals, escapes (\\d \\w \\s and escaped
characters), `.`, character classes with ranges and negation, groups with alternatives, and the
quantifiers ? * + {n} {n,} {n,m} (open-ended ones repeat at most 8 times more than their minimum)."""

from __future__ import annotations

import random
import string
import uuid
from typing import Any

from runner.execute.functions import iso

PRINTABLE = string.ascii_letters + string.digits + " -_.,"
_ESCAPES = {"d": string.digits, "w": string.ascii_letters + string.digits + "_", "s": " "}
_WORDS = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "garden",
    "harbor",
    "island",
    "jungle",
    "kettle",
    "lemon",
    "meadow",
    "north",
    "ocean",
    "piano",
    "quiet",
    "river",
    "summer",
    "timber",
    "umbrella",
    "valley",
    "winter",
    "yellow",
    "zebra",
]
_NAMES = [
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Barbara",
    "Ken",
    "Margaret",
    "Dennis",
    "Frances",
    "Edsger",
    "Radia",
    "Donald",
]


class PatternError(ValueError):
    """A pattern this generator cannot draw from."""


def _class(pattern: str, i: int) -> tuple[str, int]:
    """The characters of the class starting after `[` at `i`, and the index after its `]`."""
    negate = i < len(pattern) and pattern[i] == "^"
    i += negate
    chars: list[str] = []
    while i < len(pattern) and (pattern[i] != "]" or not chars):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            chars += list(_ESCAPES.get(pattern[i + 1], pattern[i + 1]))
            i += 2
        elif i + 2 < len(pattern) and pattern[i + 1] == "-" and pattern[i + 2] != "]":
            chars += [chr(x) for x in range(ord(c), ord(pattern[i + 2]) + 1)]
            i += 3
        else:
            chars.append(c)
            i += 1
    if i >= len(pattern):
        raise PatternError("unclosed [")
    pool = "".join(c for c in PRINTABLE if c not in chars) if negate else "".join(dict.fromkeys(chars))
    return pool, i + 1


def _parse(pattern: str, i: int) -> tuple[list[list[tuple[Any, int, int]]], int]:
    """Alternatives (lists of (atom, min, max)) up to a `)` or the end; an atom is a str pool or a
    nested alternatives list."""
    alternatives: list[list[tuple[Any, int, int]]] = [[]]
    while i < len(pattern):
        c = pattern[i]
        if c == ")":
            return alternatives, i
        if c == "|":
            alternatives.append([])
            i += 1
            continue
        atom: Any
        if c == "(":
            j = i + 1
            if pattern.startswith("?:", j):
                j += 2
            atom, i = _parse(pattern, j)
            if i >= len(pattern):
                raise PatternError("unclosed (")
            i += 1
        elif c == "[":
            atom, i = _class(pattern, i + 1)
        elif c == "\\" and i + 1 < len(pattern):
            atom, i = _ESCAPES.get(pattern[i + 1], pattern[i + 1]), i + 2
        elif c in "^$":
            i += 1
            continue
        else:
            atom, i = (PRINTABLE if c == "." else c), i + 1
        low, high, i = _quantifier(pattern, i)
        alternatives[-1].append((atom, low, high))
    return alternatives, i


def _quantifier(pattern: str, i: int) -> tuple[int, int, int]:
    if i >= len(pattern):
        return 1, 1, i
    c = pattern[i]
    if c in "?*+":
        low = 1 if c == "+" else 0
        return low, 1 if c == "?" else low + 8, i + 1
    if c == "{" and "}" in pattern[i:]:
        end = pattern.index("}", i)
        parts = pattern[i + 1 : end].split(",")
        try:
            low = int(parts[0])
            high = low if len(parts) == 1 else int(parts[1]) if parts[1] else low + 8
        except ValueError:
            return 1, 1, i
        if high > 1000:
            raise PatternError(f"repetition {{{low},{high}}} is too long")
        return low, high, end + 1
    return 1, 1, i


def _draw(rng: random.Random, alternatives: list[list[tuple[Any, int, int]]]) -> str:
    out = []
    for atom, low, high in rng.choice(alternatives):
        for _ in range(rng.randint(low, high)):
            out.append(
                rng.choice(atom) if isinstance(atom, str) and atom else _draw(rng, atom) if atom else ""
            )
    return "".join(out)


def pattern(rng: random.Random, regex: str) -> str:
    alternatives, end = _parse(regex, 0)
    if end < len(regex):
        raise PatternError("unbalanced )")
    return _draw(rng, alternatives)


def text(rng: random.Random, low: int | None, high: int | None) -> str:
    low = 1 if low is None else low
    high = max(low, low + 15 if high is None else high)
    return "".join(rng.choices(string.ascii_lowercase, k=rng.randint(low, high)))


def fmt(rng: random.Random, name: str, now_ms: int) -> str:
    if name == "uuid":
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if name == "email":
        return f"{text(rng, 8, 12)}{rng.randint(0, 9999)}@{text(rng, 5, 8)}.com"
    moment = iso(now_ms + rng.randint(-365, 365) * 86_400_000 + rng.randint(0, 86_399_999))
    if name == "date":
        return moment[:10]
    if name == "time":
        return moment[11:19]
    if name == "uri":
        return f"https://{text(rng, 5, 10)}.example.com/{text(rng, 3, 8)}"
    if name == "password":
        return pattern(rng, "[a-zA-Z0-9]{12,16}")
    return moment


def keyword(rng: random.Random, name: str) -> str:
    if name == "alphabets":
        return text(rng, 8, 16)
    if name == "alphaNumeric":
        return pattern(rng, "[a-z0-9]{8,16}")
    if name == "name":
        return f"{rng.choice(_NAMES)} {rng.choice(_NAMES)}son"
    if name == "mobile":
        return pattern(rng, "010[0-9]{8}")
    sentences = rng.randint(3, 6) if name == "content" else 1
    return " ".join(
        " ".join(rng.choice(_WORDS) for _ in range(rng.randint(6, 12))).capitalize() + "."
        for _ in range(sentences)
    )
