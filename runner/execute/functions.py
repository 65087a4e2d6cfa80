"""The functions a realize `call` may name (`runner.schemas.realize_expressions.FUNCTIONS`), the clock
shared by the server and the tests, and the two values realize expressions know besides JSON:
`MISSING` (a body property that was not sent, which `provided` tells from null) and times as ISO 8601
text in UTC with milliseconds (`2026-05-01T12:00:00.000Z`, what JavaScript's toISOString prints, so
that stored times compare as text)."""

from __future__ import annotations

import hashlib
import math
import random
import string
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any


class RealizeError(Exception):
    """A realize operation that cannot run (a wrong type, an unknown name): the server answers 500."""


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
LAZY = frozenset({"and", "or", "if", "coalesce", "provided"})
"""Functions that receive their arguments unevaluated (thunks): they short-circuit, and `provided` must
see MISSING before it becomes null."""


class Clock:
    """Milliseconds since the epoch, starting at the real time and moving 1 ms per reading: every reading
    is later than the previous one (no ties in "newest first"), and one run reads the same sequence."""

    def __init__(self, start_ms: int | None = None) -> None:
        self.ms = start_ms if start_ms is not None else int(datetime.now(UTC).timestamp() * 1000)

    def now_ms(self) -> int:
        self.ms += 1
        return self.ms


def iso(ms: float) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise RealizeError(f"expected a time (ISO 8601 text), got {plain(value)!r}")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RealizeError(f"expected a time (ISO 8601 text), got {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _shift(value: Any, amount: Any, unit: str) -> str:
    moment = parse_time(value) + timedelta(**{unit: _number(amount)})
    return iso(moment.timestamp() * 1000)


def plain(value: Any) -> Any:
    """MISSING becomes null: only `provided` sees the difference."""
    return None if value is MISSING else value


def _number(value: Any) -> float:
    value = plain(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RealizeError(f"expected a number, got {value!r}")
    return value


def _text(value: Any) -> str:
    value = plain(value)
    if not isinstance(value, str):
        raise RealizeError(f"expected a text, got {value!r}")
    return value


def _array(value: Any) -> list[Any]:
    value = plain(value)
    if not isinstance(value, list):
        raise RealizeError(f"expected an array, got {value!r}")
    return value


def _compare(a: Any, b: Any, test: Callable[[Any, Any], bool]) -> bool:
    a, b = plain(a), plain(b)
    if isinstance(a, str) and isinstance(b, str):
        return test(a, b)
    return test(_number(a), _number(b))


def hash_password(password: Any) -> str:
    # A fixed salt keeps the server deterministic; the point is that the password is not stored as sent.
    return "sha256$" + hashlib.sha256(("lapbench:" + _text(password)).encode()).hexdigest()


def _contains(a: Any, b: Any) -> bool:
    a, b = plain(a), plain(b)
    if isinstance(a, list):
        return b in a
    return _text(b).lower() in _text(a).lower()


def _round(value: Any) -> int:
    return math.floor(_number(value) + 0.5)


def _div(a: Any, b: Any) -> float:
    if _number(b) == 0:
        raise RealizeError("division by zero")
    return _number(a) / _number(b)


def equal(a: Any, b: Any) -> bool:
    a, b = plain(a), plain(b)
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return bool(a == b)


def eager(rng: random.Random, now: str) -> dict[str, Callable[..., Any]]:
    """The functions that take evaluated arguments, for one request (its random source and time)."""
    return {
        "eq": equal,
        "ne": lambda a, b: not equal(a, b),
        "lt": lambda a, b: _compare(a, b, lambda x, y: x < y),
        "le": lambda a, b: _compare(a, b, lambda x, y: x <= y),
        "gt": lambda a, b: _compare(a, b, lambda x, y: x > y),
        "ge": lambda a, b: _compare(a, b, lambda x, y: x >= y),
        "not": lambda a: not truth(a),
        "isNull": lambda a: plain(a) is None,
        "add": lambda a, b: _number(a) + _number(b),
        "sub": lambda a, b: _number(a) - _number(b),
        "mul": lambda a, b: _number(a) * _number(b),
        "div": _div,
        "mod": lambda a, b: math.fmod(_number(a), _number(b)) if _number(b) else _div(a, b),
        "min": lambda *xs: min(_number(x) for x in xs),
        "max": lambda *xs: max(_number(x) for x in xs),
        "round": _round,
        "concat": lambda *xs: "".join(
            _text(x) if not isinstance(plain(x), int | float) else str(x) for x in xs
        ),
        "lower": lambda a: _text(a).lower(),
        "upper": lambda a: _text(a).upper(),
        "trim": lambda a: _text(a).strip(),
        "length": lambda a: len(_array(a)) if isinstance(plain(a), list) else len(_text(a)),
        "contains": _contains,
        "sum": lambda a: sum(_number(x) for x in _array(a)),
        "first": lambda a: _array(a)[0] if _array(a) else None,
        "find": lambda a, k, v: next(
            (x for x in _array(a) if isinstance(x, dict) and equal(x.get(_text(k)), v)), None
        ),
        "range": lambda n: list(range(int(_number(n)))),
        "flatten": lambda a: [x for inner in _array(a) for x in _array(inner)],
        "uuid": lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "code": lambda n: "".join(rng.choices(string.ascii_uppercase + string.digits, k=int(_number(n)))),
        "now": lambda: now,
        "addDays": lambda t, n: _shift(t, n, "days"),
        "addHours": lambda t, n: _shift(t, n, "hours"),
        "addMinutes": lambda t, n: _shift(t, n, "minutes"),
        "daysBetween": lambda a, b: (parse_time(b) - parse_time(a)).days,
        "weekday": lambda t: (parse_time(t).weekday() + 1) % 7,
        "hashPassword": hash_password,
        "verifyPassword": lambda p, h: isinstance(plain(h), str) and hash_password(p) == h,
    }


def truth(value: Any) -> bool:
    value = plain(value)
    if not isinstance(value, bool):
        raise RealizeError(f"expected true or false, got {value!r}")
    return value


def lazy(name: str, thunks: list[Callable[[], Any]]) -> Any:
    """`and`, `or`, `if`, `coalesce`, `provided`: arguments are evaluated only when needed."""
    if name == "and":
        return all(truth(t()) for t in thunks)
    if name == "or":
        return any(truth(t()) for t in thunks)
    if name == "if":
        return thunks[1]() if truth(thunks[0]()) else thunks[2]()
    if name == "coalesce":
        return next((v for v in (plain(t()) for t in thunks) if v is not None), None)
    return thunks[0]() is not MISSING
