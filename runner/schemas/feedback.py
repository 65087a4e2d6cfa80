"""One error format for schema (pydantic) and semantic failures, and the feedback the model reads.

A `PlacedError` names a JSON path into the model's own arguments (`$input.files[0].tables[2].name`),
what was expected, the value found there, and how to fix it. `ValidationReport.feedback_text()` prints the
model's JSON back with every placed error as a `// ❌` comment on its line, then the errors that have no
place (unparseable output, whole-document rules)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

Segment = str | int
ROOT = "$input"
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MISSING = object()


def render_path(segments: Sequence[Segment]) -> str:
    """`("files", 0, "name")` -> `$input.files[0].name`; odd keys are quoted: `.properties["$ref"]`."""
    out = [ROOT]
    for seg in segments:
        if isinstance(seg, int):
            out.append(f"[{seg}]")
        elif _PLAIN_KEY.match(seg):
            out.append(f".{seg}")
        else:
            out.append(f"[{json.dumps(seg)}]")
    return "".join(out)


def path_pattern(path: str) -> str:
    """Indices replaced by `[*]`, so that repeated failures at sibling elements group together."""
    return re.sub(r"\[\d+\]", "[*]", path)


def step(node: Any, seg: Segment | Any) -> tuple[bool, Any]:
    """One step into a JSON value: (found, child)."""
    if isinstance(node, list) and isinstance(seg, int) and 0 <= seg < len(node):
        return True, node[seg]
    if isinstance(node, dict) and isinstance(seg, str) and seg in node:
        return True, node[seg]
    return False, None


def value_at(data: Any, segments: Sequence[Segment]) -> Any:
    """The value at `segments` inside `data`, or None when the path does not exist."""
    node = data
    for seg in segments:
        found, node = step(node, seg)
        if not found:
            return None
    return node


@dataclass(frozen=True)
class PlacedError:
    """One problem. `segments` is empty and `placed` False when it has no place in the arguments."""

    path: str
    expected: str
    value: Any
    message: str
    kind: str
    segments: tuple[Segment, ...] = ()
    placed: bool = True

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "expected": self.expected,
            "value": self.value,
            "message": self.message,
            "kind": self.kind,
        }

    def one_line(self) -> str:
        shown = _short(self.value)
        where = f"{self.path}: " if self.placed else ""
        return f"{where}expected {self.expected}, got {shown}. {self.message}"


def placed(data: Any, segments: Sequence[Segment], kind: str, expected: str, message: str) -> PlacedError:
    """A semantic error at `segments` of `data` (JSON keys, i.e. camelCase aliases)."""
    segs = tuple(segments)
    return PlacedError(render_path(segs), expected, value_at(data, segs), message, kind, segs, True)


def unplaced(kind: str, expected: str, value: Any, message: str) -> PlacedError:
    return PlacedError(ROOT, expected, value, message, kind, (), False)


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of validating one document or part: `valid`, the errors, and the parsed model."""

    phase: str
    data: Any
    errors: tuple[PlacedError, ...] = ()
    document: BaseModel | None = field(default=None, compare=False)

    @property
    def valid(self) -> bool:
        return not self.errors

    def as_json(self) -> dict[str, Any]:
        return {"valid": self.valid, "errors": [e.as_json() for e in self.errors]}

    def feedback_text(self, collapse_valid: bool = False) -> str:
        """What the model reads after a failed call. `collapse_valid` folds error-free subtrees to save
        context (the model then only sees where it went wrong)."""
        if self.valid:
            return f"The {self.phase} arguments are valid."
        count = len(self.errors)
        lines = [
            f"Your {self.phase} arguments have {count} error{'s' if count > 1 else ''}. "
            "Fix each one and call the tool again with the complete corrected arguments."
        ]
        container = isinstance(self.data, dict | list)
        at_place = [e for e in self.errors if e.placed and container]
        if at_place:
            lines += ["", "Your arguments, errors marked with // ❌ :", ""]
            lines += annotate_json(self.data, at_place, collapse_valid)
        loose = [e for e in self.errors if e not in at_place]
        if loose:
            lines += ["", "Errors without a place in your arguments:"]
            lines += [f"- {e.one_line()}" for e in loose]
        return "\n".join(lines)


def annotate_json(data: Any, errors: Sequence[PlacedError], collapse_valid: bool = False) -> list[str]:
    """Pretty-print `data` as JSON with each error as a comment on the line of its value; an error about
    a missing key is shown as that key with the value `undefined`."""
    by_path: dict[tuple[Segment, ...], list[PlacedError]] = {}
    for err in errors:
        by_path.setdefault(err.segments, []).append(err)
    prefixes = {err.segments[:i] for err in errors for i in range(len(err.segments) + 1)}
    lines: list[str] = []
    _emit(data, (), "", 0, by_path, prefixes, collapse_valid, lines, last=True)
    return lines


def _comment(errs: list[PlacedError]) -> str:
    return "  // ❌ " + " | ".join(f"{e.path}: expected {e.expected}. {e.message}" for e in errs)


def _emit(
    node: Any,
    segs: tuple[Segment, ...],
    label: str,
    depth: int,
    by_path: dict[tuple[Segment, ...], list[PlacedError]],
    prefixes: set[tuple[Segment, ...]],
    collapse: bool,
    lines: list[str],
    last: bool,
) -> None:
    pad = "  " * depth
    comma = "" if last else ","
    own = by_path.get(segs, [])
    note = _comment(own) if own else ""
    children: list[tuple[Segment, Any]] = []
    if isinstance(node, dict):
        children = list(node.items())
        # keys that are missing but have errors (e.g. a required property) are shown as undefined
        missing = [s[-1] for s in by_path if len(s) == len(segs) + 1 and s[:-1] == segs and s[-1] not in node]
        children += [(key, _MISSING) for key in missing]
    elif isinstance(node, list):
        children = list(enumerate(node))
    if not children or (collapse and segs not in prefixes and depth > 0):
        text = _leaf(node, collapse and segs not in prefixes)
        lines.append(f"{pad}{label}{text}{comma}{note}")
        return
    opener, closer = ("{", "}") if isinstance(node, dict) else ("[", "]")
    lines.append(f"{pad}{label}{opener}{note}")
    for i, (key, child) in enumerate(children):
        child_label = f"{json.dumps(key)}: " if isinstance(node, dict) else ""
        _emit(
            child,
            (*segs, key),
            child_label,
            depth + 1,
            by_path,
            prefixes,
            collapse,
            lines,
            i == len(children) - 1,
        )
    lines.append(f"{pad}{closer}{comma}")


def _leaf(node: Any, folded: bool) -> str:
    if node is _MISSING:
        return "undefined"
    if folded and isinstance(node, dict) and node:
        return "{…}"
    if folded and isinstance(node, list) and node:
        return f"[… {len(node)} item{'s' if len(node) > 1 else ''}]"
    return json.dumps(node, ensure_ascii=False)


def summarize_failures(reports: Sequence[ValidationReport], limit: int = 10) -> str:
    """Earlier failed attempts in a few lines: errors grouped by path pattern and kind, most frequent first,
    so that a model repeating a mistake is told so."""
    groups: dict[tuple[str, str], list[PlacedError]] = {}
    for err in _all_errors(reports):
        groups.setdefault((path_pattern(err.path), err.kind), []).append(err)
    if not groups:
        return "No earlier failures."
    attempts = sum(1 for r in reports if not r.valid)
    ranked = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    lines = [f"Earlier failed attempts: {attempts}. Repeated problems:"]
    for (pattern, kind), errs in ranked[:limit]:
        lines.append(f"- {pattern} ({kind}) x{len(errs)}: expected {errs[-1].expected}. {errs[-1].message}")
    if len(ranked) > limit:
        lines.append(f"- … and {len(ranked) - limit} more kinds of error")
    return "\n".join(lines)


def _all_errors(reports: Sequence[ValidationReport]) -> Iterator[PlacedError]:
    for report in reports:
        yield from report.errors
