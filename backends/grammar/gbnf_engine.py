"""The GBNF baseline: llama.cpp's own grammar sampler over `json_schema_to_gbnf(schema)`.

llama.cpp only (it needs the model's `llama_vocab`). No jump-forward. A candidate check runs the native
sampler on a one-element token array; a full mask runs it on the whole vocabulary (what the stock
llama-cpp-python grammar path does every step). The converter allows at most one space at each place
(`space ::= " "?`); with `max_whitespace=0` that rule becomes empty, so the JSON is compact.
"""

from __future__ import annotations

import ctypes
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import llama_cpp
import numpy as np
from llama_cpp.llama_grammar import RESERVED_NAMES, json_schema_to_gbnf
from numpy.typing import NDArray

from backends.base import ConstraintCompileError

ENGINE = "gbnf"
_SPACE_RULE = re.compile(r"^space ::= .*$", re.MULTILINE)
# a quoted literal or a [character class], each with backslash escapes; scanned left to right
_LITERAL_OR_CLASS = re.compile(r'"(?:[^"\\]|\\.)*"|\[(?:[^\]\\]|\\.)*\]')
_NEEDLESS_ESCAPE = re.compile(r'\\([^\\"nrtxuU])')


def _fix_literal(match: re.Match[str]) -> str:
    token = match.group(0)
    return _NEEDLESS_ESCAPE.sub(r"\1", token) if token.startswith('"') else token


_RULE_UNSAFE = re.compile(r"[^a-zA-Z0-9-]")
_TOKEN_DATA = np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)], align=True)


def _plain_def_names(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Rename `$defs` to names the converter keeps as rule names: it memoises a `$ref` by its raw name but
    stores the rule under a sanitised one, so a name like `Page_Item` or `string` is re-expanded at every
    use (exponential on recursive schemas)."""
    defs = schema.get("$defs") or {}
    renames = {
        old: f"def-{_RULE_UNSAFE.sub('-', old)}-{i}"
        for i, old in enumerate(defs)
        if _RULE_UNSAFE.search(old) or old in RESERVED_NAMES
    }
    if not renames:
        return dict(schema)
    text = json.dumps(dict(schema))
    for old, new in renames.items():
        text = text.replace(json.dumps(f"#/$defs/{old}"), json.dumps(f"#/$defs/{new}"))
    renamed = json.loads(text)
    renamed["$defs"] = {renames.get(key, key): body for key, body in renamed["$defs"].items()}
    return dict(renamed)


_DOLLAR = "x-dollar-"


def _hide_dollar_properties(node: Any) -> Any:
    """Rename properties such as "$ref" (the converter takes any "$ref" key for a reference)."""
    if isinstance(node, list):
        return [_hide_dollar_properties(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _hide_dollar_properties(value) for key, value in node.items()}
    props = out.get("properties")
    if isinstance(props, dict) and any(key.startswith("$") for key in props):
        out["properties"] = {_DOLLAR + k[1:] if k.startswith("$") else k: v for k, v in props.items()}
        if isinstance(out.get("required"), list):
            out["required"] = [_DOLLAR + k[1:] if k.startswith("$") else k for k in out["required"]]
    return out


def schema_to_gbnf(schema: Mapping[str, Any], *, name: str = "output", max_whitespace: int = 2) -> str:
    """GBNF text for `schema`; raises ConstraintCompileError when the converter rejects it."""
    try:
        text = json_schema_to_gbnf(json.dumps(_hide_dollar_properties(_plain_def_names(schema))))
    except Exception as err:  # the converter raises ValueError, AssertionError, KeyError, ...
        raise ConstraintCompileError(ENGINE, name, f"{type(err).__name__}: {err}") from err
    # a hidden key appears in the grammar only as the literal "\"x-dollar-ref\"": put the "$" back
    text = text.replace('\\"' + _DOLLAR, '\\"$')
    # the converter escapes regex metacharacters such as "\." inside literals, which llama.cpp rejects
    text = _LITERAL_OR_CLASS.sub(_fix_literal, text)
    # JSON forbids raw control characters inside strings; the converter's `char` rule lets them through
    text = text.replace('char ::= [^"\\\\] |', 'char ::= [^"\\\\\\x00-\\x1F] |')
    if max_whitespace <= 0:
        text = _SPACE_RULE.sub('space ::= ""', text)
    return text


class _TokenArray:
    """A reusable llama_token_data_array over a numpy buffer (no per-token Python objects)."""

    def __init__(self, size: int) -> None:
        self.data = np.zeros(size, dtype=_TOKEN_DATA)
        self.data["id"] = np.arange(size, dtype=np.intc)
        self.array = llama_cpp.llama_token_data_array(
            data=self.data.ctypes.data_as(llama_cpp.llama_token_data_p), size=size, selected=-1, sorted=False
        )
        self.ref = ctypes.byref(self.array)


class GbnfMatcher:
    """One generation's state of llama.cpp's grammar sampler (see `TokenMatcher`)."""

    engine = ENGINE

    def __init__(self, sampler: Any, n_vocab: int, eog_tokens: Sequence[int]) -> None:
        self._sampler = sampler
        self._n_vocab = n_vocab
        self._eog = tuple(eog_tokens)
        self._one = _TokenArray(1)
        self._full = _TokenArray(n_vocab)
        self._allowed: NDArray[np.bool_] | None = None

    def __del__(self) -> None:
        sampler, self._sampler = getattr(self, "_sampler", None), None
        if sampler is not None:
            llama_cpp.llama_sampler_free(sampler)

    def allows(self, token: int) -> bool:
        if self._allowed is not None:
            return bool(self._allowed[token])
        one = self._one
        one.data["id"][0] = token
        one.data["logit"][0] = 0.0
        one.array.size = 1
        one.array.selected = -1
        llama_cpp.llama_sampler_apply(self._sampler, one.ref)
        return bool(np.isfinite(one.data["logit"][0]))

    def mask_logits(self, logits: NDArray[np.float32]) -> None:
        full = self._full
        width = min(self._n_vocab, logits.shape[-1])
        full.data["id"][:] = np.arange(self._n_vocab, dtype=np.intc)
        full.data["logit"][:width] = logits[:width]
        full.array.size = self._n_vocab
        full.array.selected = -1
        full.array.sorted = False
        llama_cpp.llama_sampler_apply(self._sampler, full.ref)
        allowed = np.zeros(self._n_vocab, dtype=np.bool_)
        allowed[full.data["id"]] = np.isfinite(full.data["logit"])
        logits[:width][~allowed[:width]] = -np.inf
        logits[width:] = -np.inf
        self._allowed = allowed

    def consume(self, token: int) -> bool:
        # llama.cpp aborts the process on a token its grammar rejects: check first, never trust the caller.
        if not self.allows(token):
            return False
        self._allowed = None
        if token not in self._eog:
            llama_cpp.llama_sampler_accept(self._sampler, token)
        return True

    def forced_tokens(self) -> list[int]:
        return []

    def is_accepting(self) -> bool:
        return any(self.allows(token) for token in self._eog[:1])

    def is_done(self) -> bool:
        # The sampler cannot tell "complete and closed" cheaply; a complete document leaves only
        # end-of-generation allowed, which the decode loop sees as an accepting end.
        return False

    def reset(self) -> None:
        llama_cpp.llama_sampler_reset(self._sampler)
        self._allowed = None


class GbnfGrammar:
    """A parsed grammar for one vocabulary; `matcher()` clones the native sampler."""

    def __init__(self, template: Any, n_vocab: int, eog_tokens: Sequence[int], text: str) -> None:
        self._template = template
        self._n_vocab = n_vocab
        self._eog = tuple(eog_tokens)
        self.text = text

    def __del__(self) -> None:
        template, self._template = getattr(self, "_template", None), None
        if template is not None:
            llama_cpp.llama_sampler_free(template)

    def matcher(self) -> GbnfMatcher:
        return GbnfMatcher(llama_cpp.llama_sampler_clone(self._template), self._n_vocab, self._eog)


def compile_json_schema(
    schema: Mapping[str, Any],
    vocab: Any,
    *,
    n_vocab: int,
    eog_tokens: Sequence[int],
    name: str = "output",
    max_whitespace: int = 2,
) -> GbnfGrammar:
    """Parse the schema's GBNF with llama.cpp; raises ConstraintCompileError if either step fails."""
    text = schema_to_gbnf(schema, name=name, max_whitespace=max_whitespace)
    sampler = llama_cpp.llama_sampler_init_grammar(vocab, text.encode("utf-8"), b"root")
    if not sampler:
        raise ConstraintCompileError(ENGINE, name, "llama.cpp could not parse the generated GBNF grammar")
    return GbnfGrammar(sampler, n_vocab, eog_tokens, text)
