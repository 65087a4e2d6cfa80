"""Name normalisation shared by the rubric and the AutoBe importer: split identifiers into words, make
words singular (`runner.schemas.inflection`, the rule the pipeline names tables with), and match names
of different styles (table `todo_list_todos`, DTO `ITodoListTodo.ICreate`, path segment `todoItems`,
requirement "Todo item") to each other.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence

from runner.schemas.inflection import singular

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z]|\d|\b|_)|[A-Z]?[a-z]+|[A-Z]+|\d+")

# Word groups a requirement, a table, a DTO or a path may use for the same thing.
SYNONYMS: tuple[frozenset[str], ...] = (
    frozenset({"user", "member", "account", "customer", "person", "actor"}),
    frozenset({"post", "article", "thread", "topic", "entry", "discussion"}),
    frozenset({"comment", "reply", "response"}),
    frozenset({"category", "board", "forum", "subforum", "section", "channel", "community"}),
    frozenset({"vote", "reaction", "like", "upvote", "rating"}),
    frozenset({"todo", "task", "item"}),
    frozenset({"admin", "administrator", "moderator"}),
    frozenset({"employee", "worker", "staff"}),
    frozenset({"order", "purchase"}),
    frozenset({"appointment", "booking", "reservation"}),
    frozenset({"loan", "borrowing", "checkout"}),
    frozenset({"tag", "label"}),
    frozenset({"notification", "alert"}),
)


def words(identifier: str) -> list[str]:
    """Lower-case words of an identifier in any style: snake_case, camelCase, PascalCase, kebab, spaces."""
    return [w.lower() for w in _WORD.findall(identifier)]


@functools.lru_cache(maxsize=1 << 16)
def key(identifier: str) -> tuple[str, ...]:
    """Singular words of a name: `todo_list_todos` and `ITodoListTodo` both give ("todo", "list", "todo")."""
    parts = words(identifier)
    if identifier[:1] == "I" and identifier[1:2].isupper():
        parts = [p for p in parts if p != "i"]  # the DTO prefix of every segment: ITodo.ICreate
    return tuple(singular(p) for p in parts)


def dto_base(component: str) -> str:
    """`ITodoListTodo.ICreate` -> `ITodoListTodo`; `IPageITodo.ISummary` -> `ITodo` (pages wrap an entity)."""
    base = component.split(".", 1)[0]
    if base.startswith("IPageI") and len(base) > 6:
        base = base[5:]
    return base


def _same_or_synonym(a: str, b: str) -> bool:
    return a == b or any(a in group and b in group for group in SYNONYMS)


@functools.lru_cache(maxsize=1 << 16)  # pure, and called for every pair of names a score compares
def same_word(a: str, b: str) -> bool:
    """Equal, synonyms, or a compound ending in the other word ("registereduser" ~ "user")."""
    if _same_or_synonym(a, b):
        return True
    short, long_ = sorted((a, b), key=len)
    if len(short) >= 4 and len(long_) > len(short) and long_.endswith(short):
        return True
    return any(len(w) >= 4 and long_.endswith(w) and _same_or_synonym(w, short) for g in SYNONYMS for w in g)


def suffix_overlap(a: Sequence[str], b: Sequence[str]) -> int:
    """How many trailing words two keys share (synonyms count as equal)."""
    n = 0
    while n < min(len(a), len(b)) and same_word(a[-1 - n], b[-1 - n]):
        n += 1
    return n


def best_match(name_key: Sequence[str], candidates: Iterable[str]) -> str | None:
    """The candidate (e.g. a table name) whose key equals `name_key`, else the one sharing the longest
    word suffix with it (at least the last word). Ties without an exact match give None."""
    scored: list[tuple[int, str]] = []
    for candidate in candidates:
        cand_key = key(candidate)
        # "authenticateduser" and ("authenticated", "user") are the same name
        if tuple(cand_key) == tuple(name_key) or "".join(cand_key) == "".join(name_key):
            return candidate
        overlap = suffix_overlap(name_key, cand_key)
        if overlap:
            # A candidate that is fully covered by the name is a better match than a longer one.
            bonus = 1 if overlap == len(cand_key) or overlap == len(name_key) else 0
            scored.append((overlap * 2 + bonus, candidate))
    if not scored:
        return None
    scored.sort(key=lambda s: (-s[0], s[1]))
    if len(scored) > 1 and scored[0][0] == scored[1][0]:
        return None
    return scored[0][1]


def snake(identifier: str) -> str:
    """camelCase / PascalCase to snake_case (`createdAt` -> `created_at`); snake_case stays as it is."""
    return "_".join(words(identifier))
