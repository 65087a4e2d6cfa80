"""From a pydantic AST model to one JSON Schema that every grammar engine accepts, and its hash.

What changes (the output is a stricter subset of the pydantic schema, never a looser one):
- `title`, `discriminator`, `default`, `examples`, `$comment` are dropped (no constraint; `discriminator`
  and titles confuse converters);
- every `oneOf` becomes `anyOf`: the variants of the AST unions are disjoint (const `kind`/`type` tags
  or distinct required keys under `additionalProperties: false`), so this changes nothing, while engines
  differ in how they prove exclusivity; pydantic validates every output afterwards anyway;
- a single-element `allOf` is flattened; a map whose keys are only constrained by one name pattern
  (`patternProperties` + `propertyNames`) becomes `additionalProperties` (the names are validated later); string formats no engine knows (e.g. "password") are dropped;
- every array gets `maxItems <= max_items` (never below its `minItems`); with `max_string`, every plain
  string (no const/enum/format/pattern) gets `maxLength <= max_string` (the one string cap of the
  grammars; `runner.run.grammar` holds the values);
- recursion is unrolled into depth-indexed copies of the recursive `$defs` (`Binary`,
  `Binary-d1`, ...): each `$ref` hop inside a recursive group goes one level deeper, and at
  `max_depth` the recursive reference is cut. Cutting propagates: an `anyOf` loses that branch, an
  optional property disappears, an array can only be empty (`const: []`), and an object that *needs* the cut value is
  itself cut. A schema whose root needs infinite recursion raises ValueError.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

DROPPED_KEYS = frozenset({"title", "discriminator", "default", "examples", "$comment"})
KNOWN_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid", "uri"}
)
DEFS_PREFIX = "#/$defs/"


def schema_hash(schema: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON text (sorted keys, no spaces): identifies a grammar in results."""
    text = json.dumps(schema, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalize_schema(
    source: type[BaseModel] | Mapping[str, Any],
    *,
    max_depth: int = 8,
    max_items: int = 64,
    max_string: int | None = None,
) -> dict[str, Any]:
    """The engine-ready schema of a pydantic model class (JSON keys by alias) or of a JSON Schema dict.
    `max_string` additionally caps the `maxLength` of every plain string (None: keep the model's caps).
    Every hop into a recursive `$defs` entry counts as one level of `max_depth`."""
    if isinstance(source, type) and issubclass(source, BaseModel):
        raw = source.model_json_schema(by_alias=True, mode="validation")
    else:
        raw = copy.deepcopy(dict(source))
    caps = _Caps(max_items, max_string)
    defs = {name: _clean(body, caps) for name, body in raw.pop("$defs", {}).items()}
    root = _clean(raw, caps)
    return _Unroller(defs, max_depth).run(root)


@dataclass(frozen=True)
class _Caps:
    items: int
    string: int | None


def _clean(node: Any, caps: _Caps) -> Any:
    """Drop non-constraints, oneOf -> anyOf, cap arrays; walks schema keywords only (never the names
    inside `properties`, which may themselves be "title" or "oneOf")."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in DROPPED_KEYS:
            continue
        if key in ("properties", "patternProperties", "$defs"):
            out[key] = {name: _clean(sub, caps) for name, sub in value.items()}
        elif key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            out["anyOf" if key == "oneOf" else key] = [_clean(sub, caps) for sub in value]
        elif key in ("items", "additionalProperties", "not", "contains"):
            out[key] = _clean(value, caps)
        elif key == "format" and value not in KNOWN_FORMATS:
            continue
        else:
            out[key] = value
    patterns = out.get("patternProperties")
    if isinstance(patterns, dict) and len(patterns) == 1 and not out.get("properties"):
        # a map keyed by a name regex: the GBNF converter knows no patternProperties and llguidance no
        # propertyNames, so the value schema becomes additionalProperties (names are validated afterwards)
        out["additionalProperties"] = next(iter(patterns.values()))
        del out["patternProperties"]
        out.pop("propertyNames", None)
    all_of = out.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
        del out["allOf"]
        out = {**all_of[0], **out}
    if out.get("type") == "array" or "items" in out:
        low = int(out.get("minItems", 0))
        out["maxItems"] = max(low, min(int(out.get("maxItems", caps.items)), caps.items))
    plain_string = out.get("type") == "string" and not {"const", "enum", "format", "pattern"} & out.keys()
    if caps.string is not None and plain_string:
        low = int(out.get("minLength", 0))
        out["maxLength"] = max(low, min(int(out.get("maxLength", caps.string)), caps.string))
    return out


def _ref_graph(defs: Mapping[str, Any]) -> dict[str, set[str]]:
    def refs(node: Any, found: set[str]) -> set[str]:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(DEFS_PREFIX):
                found.add(ref[len(DEFS_PREFIX) :])
            for value in node.values():
                refs(value, found)
        elif isinstance(node, list):
            for value in node:
                refs(value, found)
        return found

    return {name: refs(body, set()) for name, body in defs.items()}


def _components(graph: Mapping[str, set[str]]) -> dict[str, int]:
    """Strongly connected component id of every def (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    component: dict[str, int] = {}
    for start in graph:
        if start in index:
            continue
        work: list[tuple[str, list[str]]] = [(start, sorted(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, todo = work[-1]
            if todo:
                nxt = todo.pop()
                if nxt not in graph:
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(graph[nxt])))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = len(set(component.values()))
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component[member] = comp
                    if member == node:
                        break
    return component


class _Unroller:
    def __init__(self, defs: dict[str, Any], max_depth: int) -> None:
        self.defs = defs
        self.max_depth = max_depth
        graph = _ref_graph(defs)
        self.component = _components(graph)
        members: dict[int, list[str]] = {}
        for name, comp in self.component.items():
            members.setdefault(comp, []).append(name)
        self.recursive = {
            name for name, comp in self.component.items() if len(members[comp]) > 1 or name in graph[name]
        }
        self.depends = self._reaches_recursion(graph)
        self.out: dict[str, Any] = {}
        self.cut: set[str] = set()

    def _reaches_recursion(self, graph: Mapping[str, set[str]]) -> set[str]:
        reach = set(self.recursive)
        changed = True
        while changed:
            changed = False
            for name, targets in graph.items():
                if name not in reach and targets & reach:
                    reach.add(name)
                    changed = True
        return reach

    def run(self, root: dict[str, Any]) -> dict[str, Any]:
        result = self._walk(root, 0, None)
        if result is None:
            raise ValueError(f"the schema needs recursion deeper than max_depth={self.max_depth}")
        ref = result.get("$ref")
        if isinstance(ref, str) and set(result) == {"$ref"}:
            # a bare root reference: inline it (the GBNF converter ignores `$defs` next to a root `$ref`)
            result = dict(self.out[ref[len(DEFS_PREFIX) :]])
        if self.out:
            result["$defs"] = self.out
        return dict(result)

    def _ref(self, target: str, level: int, inside: str | None) -> dict[str, Any] | None:
        if target not in self.defs:
            raise ValueError(f"unresolved $ref {DEFS_PREFIX}{target}")
        if (
            target in self.recursive
            and inside is not None
            and self.component.get(inside) == self.component[target]
        ):
            level += 1
        if level > self.max_depth:
            return None
        key = target if level == 0 or target not in self.depends else f"{target}-d{level}"
        if key in self.cut:
            return None
        if key not in self.out:
            # placeholder: a same-level cycle cannot occur (every hop inside a group goes deeper)
            self.out[key] = {}
            body = self._walk(self.defs[target], level, target)
            if body is None:
                del self.out[key]
                self.cut.add(key)
                return None
            self.out[key] = body
        return {"$ref": f"{DEFS_PREFIX}{key}"}

    def _walk(self, node: Any, level: int, inside: str | None) -> Any:
        """The node with refs resolved at `level`, or None if it cannot be satisfied."""
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(DEFS_PREFIX):
            target = self._ref(ref[len(DEFS_PREFIX) :], level, inside)
            if target is None:
                return None
            return {**{k: v for k, v in node.items() if k != "$ref"}, **target}
        out = dict(node)
        for key in ("anyOf", "allOf", "prefixItems"):
            if key in node:
                parts = [self._walk(sub, level, inside) for sub in node[key]]
                kept = [part for part in parts if part is not None]
                if (key == "anyOf" and not kept) or (key != "anyOf" and len(kept) < len(parts)):
                    return None
                out[key] = kept
        if "properties" in node:
            required = set(node.get("required", []))
            props: dict[str, Any] = {}
            for name, sub in node["properties"].items():
                walked = self._walk(sub, level, inside)
                if walked is None:
                    if name in required:
                        return None
                    continue
                props[name] = walked
            out["properties"] = props
        if "patternProperties" in node:
            patterns = {key: self._walk(sub, level, inside) for key, sub in node["patternProperties"].items()}
            out["patternProperties"] = {key: sub for key, sub in patterns.items() if sub is not None}
        if isinstance(node.get("additionalProperties"), dict):
            extra = self._walk(node["additionalProperties"], level, inside)
            out["additionalProperties"] = False if extra is None else extra
        if "items" in node:
            items = self._walk(node["items"], level, inside)
            if items is None:
                if int(node.get("minItems", 0)) > 0:
                    return None
                # `const: []` rather than `maxItems: 0`: the GBNF converter ignores maxItems without items
                return {key: value for key, value in node.items() if key == "description"} | {"const": []}
            else:
                out["items"] = items
        return out
