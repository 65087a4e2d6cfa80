"""The JavaScript methods a test may use: the common ones of strings, arrays, numbers, dates and sets
(the globals are in `runner.execute.jsglobals`). Whatever builds data reports its size to the runtime
(`Runtime.size`), which stops a test that builds too much."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from typing import Any, Protocol

from runner.execute.functions import Clock
from runner.execute.jsvalues import (
    UNDEFINED,
    JsDate,
    JsError,
    NativeFunction,
    is_number,
    number_text,
    strict_equal,
    throw_type,
    to_json,
    to_number,
    to_text,
    truthy,
)


class Runtime(Protocol):
    rng: random.Random
    clock: Clock

    def call(self, fn: Any, args: list[Any]) -> Any: ...

    def size(self, count: int) -> int: ...


Method = Callable[..., Any]


def _arg(args: tuple[Any, ...], i: int, default: Any = UNDEFINED) -> Any:
    return args[i] if len(args) > i else default


def _index(value: Any, length: int, default: int) -> int:
    if value is UNDEFINED:
        return default
    n = int(to_number(value))
    return max(0, length + n) if n < 0 else min(n, length)


def sized(rt: Runtime, text: str) -> str:
    """A string the test built, counted against its data budget."""
    rt.size(len(text))
    return text


def _sort(rt: Runtime, items: list[Any], cmp: Any) -> list[Any]:
    import functools

    if cmp is UNDEFINED:
        items.sort(key=to_text)
    else:
        items.sort(
            key=functools.cmp_to_key(
                lambda a, b: int(math.copysign(1, n)) if (n := to_number(rt.call(cmp, [a, b]))) else 0
            )
        )
    return items


STRING: dict[str, Method] = {
    "includes": lambda rt, s, *a: to_text(_arg(a, 0)) in s,
    "startsWith": lambda rt, s, *a: s.startswith(to_text(_arg(a, 0))),
    "endsWith": lambda rt, s, *a: s.endswith(to_text(_arg(a, 0))),
    "indexOf": lambda rt, s, *a: s.find(to_text(_arg(a, 0))),
    "slice": lambda rt, s, *a: s[_index(_arg(a, 0), len(s), 0) : _index(_arg(a, 1), len(s), len(s))],
    "substring": lambda rt, s, *a: s[_index(_arg(a, 0), len(s), 0) : _index(_arg(a, 1), len(s), len(s))],
    "toLowerCase": lambda rt, s, *a: s.lower(),
    "toUpperCase": lambda rt, s, *a: s.upper(),
    "trim": lambda rt, s, *a: s.strip(),
    "split": lambda rt, s, *a: list(s) if to_text(_arg(a, 0)) == "" else s.split(to_text(_arg(a, 0))),
    "replace": lambda rt, s, *a: s.replace(to_text(_arg(a, 0)), to_text(_arg(a, 1)), 1),
    "repeat": lambda rt, s, *a: s * rt.size(len(s) * int(to_number(_arg(a, 0, 0)))) if s else "",
    "padStart": lambda rt, s, *a: s.rjust(
        rt.size(int(to_number(_arg(a, 0, 0)))), to_text(_arg(a, 1, " "))[:1] or " "
    ),
    "charAt": lambda rt, s, *a: (
        s[int(to_number(_arg(a, 0, 0)))] if 0 <= int(to_number(_arg(a, 0, 0))) < len(s) else ""
    ),
    "concat": lambda rt, s, *a: s + "".join(to_text(x) for x in a),
    "toString": lambda rt, s, *a: s,
}

ARRAY: dict[str, Method] = {
    "includes": lambda rt, xs, *a: any(strict_equal(x, _arg(a, 0)) for x in xs),
    "indexOf": lambda rt, xs, *a: next((i for i, x in enumerate(xs) if strict_equal(x, _arg(a, 0))), -1),
    "slice": lambda rt, xs, *a: xs[_index(_arg(a, 0), len(xs), 0) : _index(_arg(a, 1), len(xs), len(xs))],
    "concat": lambda rt, xs, *a: [*xs, *(y for x in a for y in (x if isinstance(x, list) else [x]))][
        : rt.size(len(xs) + sum(len(x) if isinstance(x, list) else 1 for x in a))
    ],
    "join": lambda rt, xs, *a: sized(
        rt, to_text(_arg(a, 0, ",")).join("" if x is None or x is UNDEFINED else to_text(x) for x in xs)
    ),
    "some": lambda rt, xs, *a: any(truthy(rt.call(a[0], [x, i])) for i, x in enumerate(xs)),
    "every": lambda rt, xs, *a: all(truthy(rt.call(a[0], [x, i])) for i, x in enumerate(xs)),
    "find": lambda rt, xs, *a: next(
        (x for i, x in enumerate(xs) if truthy(rt.call(a[0], [x, i]))), UNDEFINED
    ),
    "findIndex": lambda rt, xs, *a: next((i for i, x in enumerate(xs) if truthy(rt.call(a[0], [x, i]))), -1),
    "map": lambda rt, xs, *a: [rt.call(a[0], [x, i]) for i, x in enumerate(xs)],
    "filter": lambda rt, xs, *a: [x for i, x in enumerate(xs) if truthy(rt.call(a[0], [x, i]))],
    "forEach": lambda rt, xs, *a: [rt.call(a[0], [x, i]) for i, x in enumerate(xs)] and UNDEFINED,
    "reduce": lambda rt, xs, *a: _reduce(rt, xs, a),
    "push": lambda rt, xs, *a: (rt.size(len(xs) + len(a)), xs.extend(a), len(xs))[2],
    "pop": lambda rt, xs, *a: xs.pop() if xs else UNDEFINED,
    "at": lambda rt, xs, *a: (
        xs[int(to_number(_arg(a, 0, 0)))]
        if -len(xs) <= int(to_number(_arg(a, 0, 0))) < len(xs)
        else UNDEFINED
    ),
    "reverse": lambda rt, xs, *a: (xs.reverse(), xs)[1],
    "sort": lambda rt, xs, *a: _sort(rt, xs, _arg(a, 0)),
}


def _reduce(rt: Runtime, xs: list[Any], a: tuple[Any, ...]) -> Any:
    items = list(xs)
    if len(a) < 2:
        if not items:
            raise throw_type("Reduce of empty array with no initial value")
        acc = items.pop(0)
    else:
        acc = a[1]
    for i, x in enumerate(items):
        acc = rt.call(a[0], [acc, x, i])
    return acc


def _utc(part: str) -> Method:
    return lambda rt, d, *a: getattr(_moment(d), part)


def _moment(d: JsDate) -> Any:
    from datetime import UTC, datetime

    if not math.isfinite(d.ms):
        return None
    return datetime.fromtimestamp(d.ms / 1000, UTC)


DATE: dict[str, Method] = {
    "getTime": lambda rt, d, *a: d.ms,
    "valueOf": lambda rt, d, *a: d.ms,
    "toISOString": lambda rt, d, *a: d.iso(),
    "toJSON": lambda rt, d, *a: d.iso(),
    "getUTCFullYear": _utc("year"),
    "getUTCMonth": lambda rt, d, *a: _moment(d).month - 1,
    "getUTCDate": _utc("day"),
    "getUTCDay": lambda rt, d, *a: (_moment(d).weekday() + 1) % 7,
    "getUTCHours": _utc("hour"),
    "getUTCMinutes": _utc("minute"),
    "getUTCSeconds": _utc("second"),
}
for _local in ("FullYear", "Month", "Date", "Day", "Hours", "Minutes", "Seconds"):
    DATE[f"get{_local}"] = DATE[f"getUTC{_local}"]  # the test runner's local time zone is UTC

NUMBER: dict[str, Method] = {
    "toFixed": lambda rt, n, *a: f"{n:.{int(to_number(_arg(a, 0, 0)))}f}",
    "toString": lambda rt, n, *a: number_text(n),
}


def get_property(value: Any, name: str, rt: Runtime) -> Any:
    if value is None or value is UNDEFINED:
        raise throw_type(f"Cannot read properties of {to_text(value)} (reading '{name}')")
    if isinstance(value, dict):
        return value.get(name, UNDEFINED)
    if isinstance(value, NativeFunction):
        return value.members.get(name, UNDEFINED)
    if isinstance(value, str | list) and name == "length":
        return len(value)
    if isinstance(value, JsError):
        return getattr(value, name, UNDEFINED) if name in ("message", "name", "status", "body") else UNDEFINED
    if isinstance(value, set):
        return len(value) if name == "size" else _bound(SET.get(name), value, rt, name)
    table = (
        STRING
        if isinstance(value, str)
        else ARRAY
        if isinstance(value, list)
        else DATE
        if isinstance(value, JsDate)
        else NUMBER
        if is_number(value)
        else {}
    )
    return _bound(table.get(name), value, rt, name)


def _bound(method: Method | None, value: Any, rt: Runtime, name: str) -> Any:
    if method is None:
        return UNDEFINED
    return NativeFunction(lambda *args: method(rt, value, *args), name)


SET: dict[str, Method] = {
    "has": lambda rt, s, *a: key(_arg(a, 0)) in s,
    "add": lambda rt, s, *a: (rt.size(len(s) + 1), s.add(key(_arg(a, 0))), s)[2],
}


def key(value: Any) -> Any:
    return json.dumps(to_json(value), sort_keys=True) if isinstance(value, dict | list) else value
