"""The JavaScript globals a test may use (`runner.schemas.testlogic.GLOBALS`): Math, Date, JSON,
Number, String, Boolean, Array, Object, Error and Set; Map and RegExp are refused (a pattern can
backtrack for longer than any time limit can interrupt), as is calling a namespace such as Math()."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from runner.execute.jsbuiltins import Runtime, key, sized
from runner.execute.jsvalues import (
    UNDEFINED,
    JsDate,
    JsError,
    JsThrow,
    NativeFunction,
    is_number,
    parse_date,
    throw_type,
    to_json,
    to_number,
    to_text,
    truthy,
)


def _date(rt: Runtime, *args: Any) -> JsDate:
    if not args:
        return JsDate(rt.clock.now_ms())
    first = args[0]
    if isinstance(first, str):
        return JsDate(parse_date(first))
    if isinstance(first, JsDate):
        return JsDate(first.ms)
    return JsDate(to_number(first))


def _json_parse(text: Any) -> Any:
    try:
        return json.loads(to_text(text))
    except ValueError as err:
        raise JsThrow(JsError(str(err), "SyntaxError")) from None


def _refused(name: str) -> Callable[..., Any]:
    def fail(*args: Any) -> Any:
        raise throw_type(f"{name} is not supported by the lapbench test runner")

    return fail


def make_globals(rt: Runtime) -> dict[str, Any]:
    def native(fn: Callable[..., Any], name: str, **members: Any) -> NativeFunction:
        return NativeFunction(fn, name, members=members)

    math_fns: dict[str, Callable[..., Any]] = {
        "max": lambda *a: max((to_number(x) for x in a), default=-math.inf),
        "min": lambda *a: min((to_number(x) for x in a), default=math.inf),
        "floor": lambda x=UNDEFINED: math.floor(to_number(x)),
        "ceil": lambda x=UNDEFINED: math.ceil(to_number(x)),
        "round": lambda x=UNDEFINED: math.floor(to_number(x) + 0.5),
        "trunc": lambda x=UNDEFINED: math.trunc(to_number(x)),
        "abs": lambda x=UNDEFINED: abs(to_number(x)),
        "sign": lambda x=UNDEFINED: (to_number(x) > 0) - (to_number(x) < 0),
        "pow": lambda x=UNDEFINED, y=UNDEFINED: to_number(x) ** to_number(y),
        "sqrt": lambda x=UNDEFINED: math.sqrt(to_number(x)) if to_number(x) >= 0 else math.nan,
        "random": lambda: rt.rng.random(),
    }
    math_members = {name: native(fn, name) for name, fn in math_fns.items()}
    date = NativeFunction(
        lambda *a: JsDate(rt.clock.now_ms()).iso(),
        "Date",
        construct=lambda *a: _date(rt, *a),
        members={
            "now": native(lambda: rt.clock.now_ms(), "now"),
            "parse": native(lambda s=UNDEFINED: parse_date(to_text(s)), "parse"),
        },
    )
    return {
        "Math": native(_refused("Math()"), "Math", PI=math.pi, E=math.e, **math_members),
        "Date": date,
        "JSON": native(
            _refused("JSON()"),
            "JSON",
            stringify=native(
                lambda v=UNDEFINED, *a: sized(
                    rt, json.dumps(to_json(v), ensure_ascii=False, separators=(",", ":"))
                ),
                "stringify",
            ),
            parse=native(_json_parse, "parse"),
        ),
        "Number": native(
            lambda v=0, *a: to_number(v),
            "Number",
            isInteger=native(lambda v=UNDEFINED: is_number(v) and float(v).is_integer(), "isInteger"),
            isFinite=native(lambda v=UNDEFINED: is_number(v) and math.isfinite(v), "isFinite"),
            MAX_SAFE_INTEGER=2**53 - 1,
        ),
        "String": native(lambda v="", *a: to_text(v), "String"),
        "Boolean": native(lambda v=UNDEFINED, *a: truthy(v), "Boolean"),
        "Array": native(
            _refused("Array()"),
            "Array",
            isArray=native(lambda v=UNDEFINED: isinstance(v, list), "isArray"),
            **{
                "from": native(
                    lambda v=UNDEFINED, *a: list(v) if isinstance(v, list | str | set) else [], "from"
                )
            },
        ),
        "Object": native(
            _refused("Object()"),
            "Object",
            keys=native(lambda v=UNDEFINED: list(v) if isinstance(v, dict) else [], "keys"),
            values=native(lambda v=UNDEFINED: list(v.values()) if isinstance(v, dict) else [], "values"),
            entries=native(
                lambda v=UNDEFINED: [[k, x] for k, x in v.items()] if isinstance(v, dict) else [], "entries"
            ),
        ),
        "Error": NativeFunction(
            lambda m="", *a: JsError(to_text(m)), "Error", construct=lambda m="", *a: JsError(to_text(m))
        ),
        "Set": NativeFunction(
            _refused("Set()"),
            "Set",
            construct=lambda v=UNDEFINED, *a: {key(x) for x in (v if isinstance(v, list) else [])},
        ),
        "Map": NativeFunction(_refused("Map"), "Map", construct=_refused("Map")),
        "RegExp": NativeFunction(_refused("RegExp"), "RegExp", construct=_refused("RegExp")),
    }


def instance_of(value: Any, ctor: Any) -> bool:
    kinds: dict[str, Callable[[Any], bool]] = {
        "Date": lambda v: isinstance(v, JsDate),
        "Error": lambda v: isinstance(v, JsError),
        "Array": lambda v: isinstance(v, list),
        "Object": lambda v: isinstance(v, dict | list | JsDate | JsError),
    }
    test = kinds.get(getattr(ctor, "name", ""))
    if test is None:
        raise throw_type("Right-hand side of 'instanceof' is not callable")
    return test(value)
