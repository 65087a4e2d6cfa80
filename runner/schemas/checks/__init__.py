"""Semantic validators, one module per phase. Each returns PlacedErrors at JSON paths of the raw input;
they run only after the input parsed into the models, so they may rely on the types."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, TypeVar

from runner.schemas.feedback import PlacedError, Segment, placed

T = TypeVar("T")


def duplicates(
    data: Any,
    prefix: Sequence[Segment],
    items: Iterable[T],
    key: Callable[[T], Hashable],
    field: str | None,
    what: str,
) -> list[PlacedError]:
    """An error at every repeated occurrence (`prefix[i].field`), naming where the first one is."""
    first: dict[Hashable, int] = {}
    errors = []
    for i, item in enumerate(items):
        value = key(item)
        if value in first:
            segs = (*prefix, i, field) if field else (*prefix, i)
            errors.append(
                placed(
                    data,
                    segs,
                    "duplicate",
                    f"a unique {what}",
                    f"{value!r} is already used at index {first[value]}; rename or remove this one.",
                )
            )
        else:
            first[value] = i
    return errors


def suggest(name: str, known: Iterable[str], limit: int = 6) -> str:
    """Known names, closest first, for a "did you mean" list."""
    import difflib

    pool = sorted(set(known))
    close = difflib.get_close_matches(name, pool, n=limit, cutoff=0.0)
    return ", ".join(close[:limit]) if close else "(none)"
