"""Degraded answers, repaired from feedback: the oracle as a stand-in for a capable but fallible model.

At a given rate the first answer to a call is spoiled in one of four ways — a required field dropped, a
reference broken, garbage instead of JSON, or the JSON cut off. A retry carries the harness's feedback;
every spoilt part that the feedback names (by the value or key it shows, or a parse error for garbage and
cut-off text) is repaired, and what the feedback missed is sent again unchanged. The feedback loop is so
exercised end to end, and a validator that misses a defect shows as a run that does not recover.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from runner.run.parts import ENDPOINT_PLAN

DefectKind = Literal["drop_field", "break_reference", "garbage", "cut_off"]
KINDS: tuple[DefectKind, ...] = ("drop_field", "break_reference", "garbage", "cut_off")
REFERENCE_KEYS = ("targetTable", "requestBody", "responseBody", "$ref", "path")
"""Keys whose value names something else in the run (a table, a component, an operation)."""
DEFINING_PATHS_TOOL = ENDPOINT_PLAN
REQUIRED_KEYS = ("name", "type", "method", "columns", "statements", "entities", "operation", "endpoints")
PARSE_FAILURE_TELLS = ("could not read JSON", "cut off", "generation failed")
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Defect:
    kind: DefectKind
    path: Path = ()
    tell: str = ""
    """What feedback that caught this defect must contain."""

    def named_by(self, feedback: str) -> bool:
        if self.kind in ("garbage", "cut_off"):
            return any(t in feedback for t in PARSE_FAILURE_TELLS)
        return bool(self.tell) and self.tell in feedback


def stable_seed(*parts: object) -> int:
    """A seed from text, the same in every process (Python's hash() is salted per process)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def choose_defect(value: Any, rng: random.Random, tool: str | None = None) -> Defect:
    """One defect for an answer of `tool`. An endpoint plan's paths define endpoints rather than name them: a
    changed one is a different (valid) plan, not a broken reference that feedback could name."""
    kind = rng.choice(KINDS)
    keys = tuple(k for k in REFERENCE_KEYS if not (tool == DEFINING_PATHS_TOOL and k == "path"))
    if kind == "break_reference":
        spots = [(p, v) for p, v in _walk(value) if p and p[-1] in keys and isinstance(v, str) and v]
        if spots:
            path, old = rng.choice(spots)
            return Defect(kind, path, _broken(str(path[-1]), old))
    if kind == "drop_field":
        spots = [(p, v) for p, v in _walk(value) if p and p[-1] in REQUIRED_KEYS]
        if spots:
            path, _ = rng.choice(spots)
            return Defect(kind, path, str(path[-1]))
    return Defect(kind if kind in ("garbage", "cut_off") else rng.choice(("garbage", "cut_off")))


def render(value: Any, defects: list[Defect]) -> str:
    """The answer text with the defects applied."""
    spoilt = json.loads(json.dumps(value))
    for defect in defects:
        if defect.kind == "break_reference":
            _set(spoilt, defect.path, defect.tell)
        elif defect.kind == "drop_field":
            parent = _get(spoilt, defect.path[:-1])
            if isinstance(parent, dict):
                parent.pop(str(defect.path[-1]), None)
    text = json.dumps(spoilt, ensure_ascii=False, separators=(",", ":"))
    kinds = {d.kind for d in defects}
    if "garbage" in kinds:
        return "Sure! Here is the design you asked for, I hope it helps."
    if "cut_off" in kinds:
        return text[: max(1, len(text) * 2 // 3)]
    return text


def _broken(key: str, old: str) -> str:
    if key == "$ref":
        return old + "Missing"
    if key == "path":
        return old.rstrip("/") + "/missing"
    return (old + "_missing") if key == "targetTable" else old + "Missing"


def _walk(node: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _walk(child, (*path, key))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from _walk(child, (*path, i))


def _get(node: Any, path: Path) -> Any:
    for seg in path:
        node = node[seg]
    return node


def _set(node: Any, path: Path, value: Any) -> None:
    _get(node, path[:-1])[path[-1]] = value
