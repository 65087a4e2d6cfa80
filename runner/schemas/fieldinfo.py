"""Find the pydantic field a validation error's `loc` points at, so that feedback about a missing
property can repeat that property's own description and type."""

from __future__ import annotations

import types
from collections.abc import Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, Tag
from pydantic.fields import FieldInfo


def _strip(tp: Any) -> tuple[Any, tuple[Any, ...]]:
    """(type, Annotated metadata), with Optional[X] reduced to X."""
    meta: tuple[Any, ...] = ()
    while get_origin(tp) is Annotated:
        tp, *extra = get_args(tp)
        meta += tuple(extra)
    if get_origin(tp) in (Union, types.UnionType):
        members = [m for m in get_args(tp) if m is not type(None)]
        if len(members) == 1:
            return _strip(members[0])
    return tp, meta


def _tag_of(member: Any) -> set[str]:
    tp, meta = _strip(member)
    tags = {m.tag for m in meta if isinstance(m, Tag)}
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        tags.add(tp.__name__)
        for key in ("kind", "type"):  # the discriminator fields of our unions
            info = tp.model_fields.get(key)
            if info is not None:
                tags.update(str(a) for a in get_args(info.annotation))
    return tags


def _field(model: type[BaseModel], key: str) -> FieldInfo | None:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info
    return None


def _walk(model: type[BaseModel], loc: Sequence[int | str]) -> tuple[Any, FieldInfo | None]:
    """The type at the end of `loc` and the field that holds it (None if `loc` leaves the models)."""
    current: Any = model
    last: FieldInfo | None = None
    for seg in loc:
        tp, _ = _strip(current)
        origin = get_origin(tp)
        if isinstance(seg, str) and origin is None and isinstance(tp, type) and issubclass(tp, BaseModel):
            last = _field(tp, seg)
            if last is None:
                return None, None
            current = last.annotation
        elif origin in (list, dict):
            current = get_args(tp)[-1]
        elif origin in (Union, types.UnionType):
            match = [m for m in get_args(tp) if seg in _tag_of(m)]
            if not match:
                return None, None
            current = match[0]
        else:
            return None, None
    return current, last


def field_at(model: type[BaseModel], loc: Sequence[int | str]) -> FieldInfo | None:
    """The FieldInfo named by the last key of `loc`, following lists, dicts and union tags."""
    if not loc or not isinstance(loc[-1], str):
        return None
    current, info = _walk(model, loc)
    return info if current is not None else None


def allowed_keys(model: type[BaseModel], loc: Sequence[int | str]) -> list[str] | None:
    """The JSON keys of the model found at `loc` (the object an unknown key was put in)."""
    current, _ = _walk(model, loc)
    tp, _ = _strip(current)
    if get_origin(tp) is None and isinstance(tp, type) and issubclass(tp, BaseModel):
        return [info.alias or name for name, info in tp.model_fields.items()]
    return None
