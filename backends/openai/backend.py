"""`OpenAIHttpBackend`: a model served over the OpenAI-compatible HTTP protocol.

Where the server is: `LoadConfig.model` may itself be the base URL ("http://127.0.0.1:8000/v1"; the served
model's name then comes from `options["model_name"]` or the server's first `/models` entry), or a model name
with the URL in `options["base_url"]`, else `$LAPBENCH_OPENAI_BASE_URL`, else `$OPENAI_BASE_URL`. A URL
without a path gets "/v1". The API key: `options["api_key"]`, else `$OPENAI_API_KEY` (none for local servers).

Other options: `timeout_s` (per request, default 120), `retries` (default 2; see `transport.py`),
`enforce` (default "auto": how a constraint is sent and whether the server enforces it, see `enforce.py`).
Loading finds out what the server is (`/api/version` answers on Ollama, `/props` on llama-server) and, with
"auto", probes the ways it may enforce a schema, best first, keeping the first it obeys (a few tiny
generations); a mode name ("json_schema", "json_object", "ollama", "tool") declares it enforced without
probing, "none" sends forced tool calls and claims nothing. `Generation.constrained` is True when the mode
is enforced and the answer obeys the schema (or was cut at max_tokens); `Generation.engine` says which way.
Requests are independent, so `generate` may run from several threads (`capabilities.parallel_calls`).

Tokens: `/extras/tokenize` + `/extras/detokenize` (llama-cpp-python) or `/tokenize` + `/detokenize`
(llama-server) when the server has them. Otherwise token ids are an approximation: every 4 UTF-8 bytes make
one id (length tag in the high bits), about the size of a BPE token in English, and exactly reversible by
`detokenize`. Either way the server sends text, not ids, so `capabilities.token_level` is False:
`Generation.tokens` is the answer's text tokenized afterwards.

Streaming (`options["stream"]`, default False): server-sent events; `on_token` then receives each piece as
it arrives with token id -1 (the protocol streams text, not ids). Without streaming `on_token` is called
after the answer, with the ids of the tokenized text (always so for Ollama's native constrained calls).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from contextlib import closing
from typing import Any

from backends.base import (
    Capabilities,
    FinishReason,
    Generation,
    GenerationRequest,
    GenerationStats,
    LoadConfig,
    RemoteError,
    TokenCallback,
)
from backends.openai import ollama
from backends.openai.enforce import (
    CANDIDATES,
    PROBE,
    PROBE_SCHEMA,
    Enforcement,
    Mode,
    ServerInfo,
    declared,
    obeys,
    server_kind,
)
from backends.openai.sampling import check_thinking, repetition_fields
from backends.openai.transport import Transport
from backends.openai.wire import (
    FINISH,
    answer_stats,
    answer_text,
    base_url_from,
    delta_text,
    recover_tool_arguments,
    request_body,
    stream_stats,
)

_TOKENIZE_PATHS = (("/extras/tokenize", "/extras/detokenize"), ("/tokenize", "/detokenize"))


class OpenAIHttpBackend:
    name = "openai"
    capabilities = Capabilities(native_tool_calls=True, token_level=False, parallel_calls=True)

    def __init__(self) -> None:
        self.base_url = ""
        self.model: str | None = None
        self.stream = False
        self.server = ServerInfo("openai")
        self.enforcement = Enforcement("tool", False)
        self._transport: Transport | None = None
        self._tokenize_paths: tuple[str, str] | None = None

    def load(self, config: LoadConfig) -> None:
        self.close()
        self.base_url, self.model = base_url_from(config)
        options = config.options
        self.stream = bool(options.get("stream", False))
        fixed = declared(options)
        self._transport = Transport(
            timeout_s=float(options.get("timeout_s", 120.0)),
            retries=max(int(options.get("retries", 2)), 0),
            api_key=options.get("api_key") or os.environ.get("OPENAI_API_KEY"),
        )
        models = self._http().json("GET", f"{self.base_url}/models")
        if self.model is None:
            try:
                self.model = str(models["data"][0]["id"])
            except (KeyError, IndexError, TypeError) as err:
                raise RemoteError(f"{self.base_url}/models: no model listed: {str(models)[:200]}") from err
        self._tokenize_paths = self._probe_tokenizer()
        self.server = server_kind(
            self._get(ollama.VERSION_PATH),
            self._get("/props"),
            self._tokenize_paths[0] if self._tokenize_paths else None,
        )
        self.enforcement = fixed or self._probe_enforcement()

    def _http(self) -> Transport:
        if self._transport is None:
            raise RemoteError(f"{self.base_url or 'openai backend'}: load() the backend first")
        return self._transport

    def _root(self) -> str:
        return self.base_url.removesuffix("/v1")

    def _get(self, path: str) -> Any:
        """The JSON at `path` under the server's root, or None when it has none."""
        try:
            return self._http().json("GET", self._root() + path, retry=False)
        except RemoteError:
            return None

    def _probe_tokenizer(self) -> tuple[str, str] | None:
        for tokenize, detokenize in _TOKENIZE_PATHS:
            try:
                body = {"input": "a", "content": "a"}
                answer = self._http().json("POST", self._root() + tokenize, body, retry=False)
            except RemoteError:
                continue
            if isinstance(answer, dict) and isinstance(answer.get("tokens"), list):
                return tokenize, detokenize
        return None

    def _probe_enforcement(self) -> Enforcement:
        """The first way of sending a schema, best first for this kind of server, that the server obeys."""
        findings: list[str] = []
        for mode in CANDIDATES[self.server.kind]:
            try:
                text = self._exchange(PROBE, mode, None, probe=True)[0]
            except RemoteError as err:
                findings.append(f"{mode}: refused ({str(err)[:120]})")
                continue
            if obeys(text, PROBE_SCHEMA):
                return Enforcement(mode, True, (*findings, f"{mode}: obeyed"))
            findings.append(f"{mode}: ignored (answered {text[:60]!r})")
        return Enforcement("tool", False, tuple(findings))

    def tokenize(self, text: str, *, add_special: bool = False) -> list[int]:
        if self._tokenize_paths is None:
            data = text.encode("utf-8")
            return [
                len(c) << 32 | int.from_bytes(c, "big")
                for c in (data[i : i + 4] for i in range(0, len(data), 4))
            ]
        body = {"input": text, "content": text, "add_special": add_special, "model": self.model}
        answer = self._http().json("POST", self._root() + self._tokenize_paths[0], body)
        return [int(t) for t in answer["tokens"]]

    def detokenize(self, tokens: Sequence[int]) -> str:
        if self._tokenize_paths is None:
            chunks = ((t & 0xFFFFFFFF).to_bytes(t >> 32, "big") for t in tokens)
            return b"".join(chunks).decode("utf-8", errors="replace")
        url = self._root() + self._tokenize_paths[1]
        answer = self._http().json("POST", url, {"tokens": list(tokens)})
        text = answer.get("text", answer.get("content"))
        if not isinstance(text, str):
            raise RemoteError(f"{url}: no text in {str(answer)[:200]}")
        return text

    def generate(self, request: GenerationRequest, on_token: TokenCallback | None = None) -> Generation:
        constraint = request.constraint
        text, reason, stats, tokens = self._exchange(request, self.enforcement.mode, on_token)
        constrained = (
            constraint is not None
            and self.enforcement.enforced
            and (reason == "length" or obeys(text, constraint.json_schema))
        )
        return Generation(
            text=text,
            tokens=tokens,
            finish_reason=reason,
            constrained=constrained,
            stats=stats,
            engine=self.enforcement.engine if constrained else None,
        )

    def _exchange(
        self, request: GenerationRequest, mode: Mode, on_token: TokenCallback | None, *, probe: bool = False
    ) -> tuple[str, FinishReason, GenerationStats, tuple[int, ...]]:
        """One request as `mode` sends a constraint: (text, finish reason, stats, token ids). A probe is
        neither retried nor streamed: a refusal is an answer."""
        retry = not probe
        check_thinking(request, self.base_url)
        extra = repetition_fields(request.repetition, self.server.kind, self.base_url)
        started = time.perf_counter()
        if request.constraint is not None and mode == "ollama":
            url = self._root() + ollama.CHAT_PATH
            body = ollama.chat_body(request, self.model)
            body["options"].update(extra)  # Ollama takes sampling settings under `options`
            answer = self._http().json("POST", url, body, retry=retry)
            text, reason, stats = ollama.chat_answer(answer, url, time.perf_counter() - started)
            return text, reason, stats, self._replay(text, on_token)
        endpoint, body = request_body(request, self.model, mode)
        body.update(extra)
        url = self.base_url + endpoint
        recover = request.constraint is not None and mode == "tool"
        if self.stream and not probe:
            text, reason, usage, times = self._stream(url, body, started, recover, on_token)
            elapsed = time.perf_counter() - started
            generated = int(usage.get("completion_tokens", len(times)))
            stats = stream_stats(times, elapsed, int(usage.get("prompt_tokens", 0)), generated)
            return text, reason, stats, tuple(self.tokenize(text))
        answer = self._http().json("POST", url, body, retry=retry)
        elapsed = time.perf_counter() - started
        text, reason = answer_text(answer, url, recover)
        usage = answer.get("usage") or {}
        tokens = self._replay(text, on_token)  # the server's own ids when it can tokenize, else approximate
        generated = int(usage.get("completion_tokens", len(tokens)))
        timings = answer.get("timings")
        return (
            text,
            reason,
            answer_stats(timings, elapsed, int(usage.get("prompt_tokens", 0)), generated),
            tokens,
        )

    def _replay(self, text: str, on_token: TokenCallback | None) -> tuple[int, ...]:
        """The ids of an answer that arrived whole, each handed to `on_token` as if it had been streamed."""
        tokens = tuple(self.tokenize(text))
        if on_token is not None:
            for token in tokens:
                on_token(token, self.detokenize([token]))
        return tokens

    def _stream(
        self,
        url: str,
        body: dict[str, Any],
        started: float,
        recover: bool,
        on_token: TokenCallback | None,
    ) -> tuple[str, FinishReason, Mapping[str, Any], list[float]]:
        """Server-sent events: (text, finish reason, usage if sent, arrival time of each piece)."""
        pieces: list[str] = []
        times: list[float] = []
        reason: FinishReason = "stop"
        usage: Mapping[str, Any] = {}
        tool_call = False
        with closing(self._http().events(url, body)) as chunks:
            for chunk in chunks:
                usage = chunk.get("usage") or usage
                for choice in chunk.get("choices") or []:
                    piece, from_tool = delta_text(choice)
                    tool_call |= from_tool
                    if piece:
                        times.append(time.perf_counter() - started)
                        pieces.append(piece)
                        if on_token is not None:
                            on_token(-1, piece)
                    if choice.get("finish_reason"):
                        reason = FINISH.get(str(choice["finish_reason"]), "stop")
        text = "".join(pieces)
        return (recover_tool_arguments(text) if recover and not tool_call else text), reason, usage, times

    def memory_report(self) -> Mapping[str, int]:
        return {}

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
