"""A scripted backend for harness unit tests: replies come from a queue, every request is recorded.

Usage::

    fake = FakeBackend(['{"actors": []}', FakeReply("oops", finish_reason="length")])
    fake.load(LoadConfig(model="fake"))
    gen = fake.generate(GenerationRequest(messages=(Message("user", "hi"),)))
    assert fake.requests[0].messages[0].content == "hi"

Replies (`Reply`) are consumed in order, one per `generate` call:
- a `str`: the text the "model" produces, finish reason "stop";
- a `FakeReply(text, finish_reason)`: to script "length", "error" (with `error=`) or "grammar";
- a callable `(GenerationRequest) -> str | FakeReply`: computes the reply from the request
  (e.g. echo the prompt, or answer differently on a retry).
More replies can be queued later with `fake.script(...)`, or through `LoadConfig.options["replies"]`
(a list of strings) when the backend was made by `registry.create_backend("fake")`. An empty queue raises
`BackendError`, so a test that makes more calls than it scripted fails loudly — unless a `responder`
(`LoadConfig.options["responder"]`, a callable like a reply) answers every call the queue does not.

Tokens: a deterministic word-level tokenizer. A token is a run of word characters or one other
character, each with the whitespace before it (" the", " {", "\\n"), close to how BPE vocabularies split
text. Ids come from a vocabulary that grows on first sight (per instance), so
`detokenize(tokenize(s)) == s` for every string. `max_tokens` truncates the scripted text to that many
tokens (finish reason "length"); a stop string cuts the text before it (finish reason "stop").

Constraints (`constraint_mode`):
- "ignore" (default): the constraint is recorded but nothing is enforced, so `constrained=False` —
  like a free-mode model; the harness must validate the text itself.
- "enforce": behaves like a grammar engine that always keeps the output valid: `constrained=True`,
  `engine` is the requested engine, finish reason "grammar". Since a script cannot be forced, a scripted
  text that is not valid JSON for the schema (checked with `jsonschema`) is a bug in the test: the call
  returns finish reason "error" with the validation message in `Generation.error`. An engine other than
  "llguidance" or "gbnf" raises `UnsupportedCapability`, like a real backend.

Stats are synthetic and deterministic (no clock): `prefill_seconds_per_token` per evaluated prompt token,
`seconds_per_token` per generated token. The prompt of the previous call is remembered, so
`prompt_tokens_evaluated` models prefix reuse like llama.cpp's cache.
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from backends.base import (
    BackendError,
    Capabilities,
    FinishReason,
    Generation,
    GenerationRequest,
    GenerationStats,
    LoadConfig,
    TokenCallback,
    UnsupportedCapability,
)
from backends.grammar import ENGINE_NAMES


@dataclass(frozen=True)
class FakeReply:
    text: str
    finish_reason: FinishReason = "stop"
    error: str | None = None


Reply = str | FakeReply | Callable[[GenerationRequest], "str | FakeReply"]
ConstraintMode = Literal["ignore", "enforce"]

_TOKEN = re.compile(r"\s*(?:\w+|[^\w\s])|\s+")


def render_chat(request: GenerationRequest) -> str:
    """The fake's chat template: one `<|role|>` block per message, then the assistant header."""
    if request.prompt is not None:
        return request.prompt
    blocks = [f"<|{m.role}|>\n{m.content}\n" for m in request.messages]
    return "".join(blocks) + "<|assistant|>\n"


class FakeBackend:
    """Scripted replies plus a history of requests; see the module docstring."""

    name = "fake"

    def __init__(
        self,
        replies: Iterable[Reply] = (),
        *,
        constraint_mode: ConstraintMode = "ignore",
        prefill_seconds_per_token: float = 0.0005,
        seconds_per_token: float = 0.01,
        peak_memory_bytes: int | None = None,
    ) -> None:
        self.constraint_mode: ConstraintMode = constraint_mode
        self.capabilities = Capabilities(
            grammar_engines=ENGINE_NAMES if constraint_mode == "enforce" else (),
            prefix_cache=True,
            parallel_calls=True,  # calls are served one at a time, under the lock
        )
        self._lock = threading.RLock()  # the vocabulary, the queue and the prompt cache are shared
        self.prefill_seconds_per_token = prefill_seconds_per_token
        self.seconds_per_token = seconds_per_token
        self.peak_memory_bytes = peak_memory_bytes
        self.requests: list[GenerationRequest] = []
        """Every request passed to `generate`, in order."""
        self.generations: list[Generation] = []
        """What each call returned, parallel to `requests`."""
        self.config: LoadConfig | None = None
        self.closed = False
        self._queue: deque[Reply] = deque(replies)
        self._vocab: dict[str, int] = {}
        self._pieces: list[str] = []
        self._last_prompt: list[int] = []
        self._responder: Reply | None = None

    def script(self, *replies: Reply) -> None:
        """Queue more replies after the ones already waiting."""
        self._queue.extend(replies)

    @property
    def pending(self) -> int:
        """Replies not consumed yet."""
        return len(self._queue)

    def load(self, config: LoadConfig) -> None:
        self.config = config
        self.script(*config.options.get("replies", ()))
        self._responder = config.options.get("responder")

    def tokenize(self, text: str, *, add_special: bool = False) -> list[int]:
        with self._lock:
            return self._tokenize(text)

    def _tokenize(self, text: str) -> list[int]:
        ids = []
        for piece in _TOKEN.findall(text):
            token = self._vocab.get(piece)
            if token is None:
                token = self._vocab[piece] = len(self._pieces)
                self._pieces.append(piece)
            ids.append(token)
        return ids

    def detokenize(self, tokens: Sequence[int]) -> str:
        try:
            return "".join(self._pieces[t] for t in tokens)
        except IndexError as err:
            raise BackendError(f"fake backend: unknown token id in {list(tokens)}") from err

    def generate(self, request: GenerationRequest, on_token: TokenCallback | None = None) -> Generation:
        with self._lock:
            return self._generate(request, on_token)

    def _generate(self, request: GenerationRequest, on_token: TokenCallback | None) -> Generation:
        if self.closed:
            raise BackendError("fake backend: generate() after close()")
        if not self._queue and self._responder is not None:
            self._queue.append(self._responder)
        if not self._queue:
            raise BackendError(f"fake backend: no scripted reply left for request #{len(self.requests) + 1}")
        constraint = request.constraint
        if (
            self.constraint_mode == "enforce"
            and constraint is not None
            and constraint.engine not in ENGINE_NAMES
        ):
            raise UnsupportedCapability(f"fake backend: no grammar engine {constraint.engine!r}")
        self.requests.append(request)
        reply = self._queue.popleft()
        scripted = reply(request) if callable(reply) else reply
        if isinstance(scripted, str):
            scripted = FakeReply(scripted)
        generation = self._produce(request, scripted, on_token)
        self.generations.append(generation)
        return generation

    def _produce(
        self, request: GenerationRequest, reply: FakeReply, on_token: TokenCallback | None
    ) -> Generation:
        prompt = self.tokenize(render_chat(request))
        reused = _common_prefix(prompt, self._last_prompt)
        if reused == len(prompt):  # like llama.cpp, the last prompt token is always re-evaluated
            reused = max(len(prompt) - 1, 0)
        self._last_prompt = prompt

        text, finish, error = reply.text, reply.finish_reason, reply.error
        cut = min((i for i in (text.find(s) for s in request.stop if s) if i >= 0), default=-1)
        if cut >= 0:
            text, finish = text[:cut], "stop"
        tokens = self.tokenize(text)
        if len(tokens) > request.max_tokens:
            tokens, finish = tokens[: request.max_tokens], "length"
            text = self.detokenize(tokens)

        constraint = request.constraint
        enforced = constraint is not None and self.constraint_mode == "enforce"
        if enforced and constraint is not None and finish == "stop":
            problem = _schema_problem(text, constraint.json_schema)
            finish, error = ("error", problem) if problem else ("grammar", error)

        prompt_seconds = (len(prompt) - reused) * self.prefill_seconds_per_token
        times = tuple(prompt_seconds + (i + 1) * self.seconds_per_token for i in range(len(tokens)))
        if on_token is not None:
            for token in tokens:
                on_token(token, self._pieces[token])
        stats = GenerationStats(
            prompt_tokens=len(prompt),
            prompt_tokens_evaluated=len(prompt) - reused,
            prompt_seconds=prompt_seconds,
            time_to_first_token=times[0] if times else prompt_seconds,
            generated_tokens=len(tokens),
            generation_seconds=times[-1] - times[0] if times else 0.0,
            peak_memory_bytes=self.peak_memory_bytes,
            token_times=times,
        )
        return Generation(
            text=text,
            tokens=tuple(tokens),
            finish_reason=finish,
            constrained=enforced,
            stats=stats,
            engine=constraint.engine if enforced and constraint is not None else None,
            error=error,
        )

    def memory_report(self) -> Mapping[str, int]:
        return {"weights": 0} if self.peak_memory_bytes is None else {"weights": self.peak_memory_bytes}

    def close(self) -> None:
        self.closed = True


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _schema_problem(text: str, schema: Mapping[str, Any]) -> str | None:
    """Why `text` is not a JSON document valid for `schema`, or None when it is."""
    import jsonschema

    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        return f"scripted reply is not JSON ({err}); an enforcing engine could not have produced it"
    failure = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(data))
    if failure is None:
        return None
    where = "/".join(str(p) for p in failure.absolute_path) or "(root)"
    return f"scripted reply violates the schema at {where}: {failure.message}"
