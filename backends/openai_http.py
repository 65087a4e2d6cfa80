"""OpenAI-compatible HTTP backend: llama-server, llama-cpp-python's server, LM Studio, Ollama, vLLM, hosted APIs.

Where the server is: `LoadConfig.model` may itself be the base URL ("http://127.0.0.1:8000/v1"; the served
model's name then comes from `options["model_name"]` or the server's first `/models` entry), or a model name
with the URL in `options["base_url"]`, else `$LAPBENCH_OPENAI_BASE_URL`, else `$OPENAI_BASE_URL`. A URL
without a path gets "/v1". The API key: `options["api_key"]`, else `$OPENAI_API_KEY` (none for local servers).

Other options: `timeout_s` (per request, default 120), `retries` (default 2; connection failures, timeouts,
HTTP 429/5xx are retried with exponential backoff 0.5 s, 1 s, 2 s ... capped at 8 s), `server_enforces_schema`
(default False: set it for servers known to compile a forced tool's parameters into a grammar, such as
llama-cpp-python's server, so that `Generation.constrained` is True).

A constraint becomes one tool (`Constraint.name`, parameters = `Constraint.json_schema`) with a forced
`tool_choice`; `Generation.text` is the tool call's JSON arguments. Servers that answer with plain content
instead (`<tool_call>{...}</tool_call>` tags, a fenced ```json block, or bare JSON) are recovered.

Tokens: `/extras/tokenize` + `/extras/detokenize` (llama-cpp-python) or `/tokenize` + `/detokenize`
(llama-server) when the server has them (`capabilities.token_level` = True). Otherwise token ids are an
approximation (`token_level` = False): every 4 UTF-8 bytes make one id (length tag in the high bits), about
the size of a BPE token in English, and exactly reversible by `detokenize`.

Streaming (`options["stream"]`, default False): server-sent events; `on_token` then receives each piece as
it arrives with token id -1 (the protocol streams text, not ids), and `Generation.tokens` is the final text
tokenized. Without streaming `on_token` is called after the answer, with the ids of the tokenized text.

Stats are client wall-clock. Non-streaming, every token becomes known when the answer arrives, so
`time_to_first_token` is the round trip and `generation_seconds` 0 (llama-server's `timings`, when sent,
give the server-side prompt and generation seconds instead). Streaming, `time_to_first_token` and
`token_times` are arrival times of the pieces, and `prompt_seconds` = time to first token: an upper bound
(it includes one decode step and the network). Token counts come from `usage` (else one per piece).
Every failure raises `RemoteError` naming the URL; nothing waits longer than the timeouts allow.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

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

_TAGGED = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)
_FENCED = re.compile(r"```(?:json)?\s*\n?(.*?)```", re.DOTALL)
_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "stop",
    "function_call": "stop",
}
_RETRY_STATUS = {408, 429, 500, 502, 503, 504}
MAX_BACKOFF_S = 8.0


def base_url_from(config: LoadConfig) -> tuple[str, str | None]:
    """(base URL, model name or None) from the load config and the environment."""
    url: str | None
    if re.match(r"^https?://", config.model, re.IGNORECASE):
        url, model = config.model, config.options.get("model_name")
    else:
        url = (
            config.options.get("base_url")
            or os.environ.get("LAPBENCH_OPENAI_BASE_URL")
            or os.environ.get("OPENAI_BASE_URL")
        )
        model = config.model
        if not url:
            raise RemoteError(
                f"no server URL for model {config.model!r}: pass options base_url or set LAPBENCH_OPENAI_BASE_URL"
            )
    parsed = httpx.URL(url)
    if parsed.path in ("", "/"):
        parsed = parsed.copy_with(path="/v1")
    return str(parsed).rstrip("/"), model


def recover_tool_arguments(content: str) -> str:
    """The JSON arguments inside a text-form tool call, or `content` unchanged when none is found."""
    for pattern in (_TAGGED, _FENCED):
        match = pattern.search(content)
        if match:
            return _unwrap_call(match.group(1).strip())
    return _unwrap_call(content.strip())


def _unwrap_call(text: str) -> str:
    """`{"name": ..., "arguments": {...}}` -> the arguments as JSON; other text unchanged."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return text
    if isinstance(data, dict) and set(data) <= {"name", "arguments", "parameters"} and "name" in data:
        arguments = data.get("arguments", data.get("parameters"))
        if isinstance(arguments, str):
            return arguments
        if arguments is not None:
            return json.dumps(arguments)
    return text


class OpenAIHttpBackend:
    name = "openai"

    def __init__(self) -> None:
        self.capabilities = Capabilities(native_tool_calls=True, token_level=False)
        self.base_url = ""
        self.model: str | None = None
        self.enforces_schema = False
        self.stream = False
        self._client: httpx.Client | None = None
        self._timeout = 120.0
        self._retries = 2
        self._tokenize_paths: tuple[str, str] | None = None

    def load(self, config: LoadConfig) -> None:
        self.close()
        self.base_url, self.model = base_url_from(config)
        options = config.options
        self._timeout = float(options.get("timeout_s", 120.0))
        self._retries = max(int(options.get("retries", 2)), 0)
        self.enforces_schema = bool(options.get("server_enforces_schema", False))
        self.stream = bool(options.get("stream", False))
        key = options.get("api_key") or os.environ.get("OPENAI_API_KEY")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        timeout = httpx.Timeout(self._timeout, connect=min(self._timeout, 5.0))
        self._client = httpx.Client(headers=headers, timeout=timeout)
        models = self._request("GET", f"{self.base_url}/models")
        if self.model is None:
            try:
                self.model = str(models["data"][0]["id"])
            except (KeyError, IndexError, TypeError) as err:
                raise RemoteError(f"{self.base_url}/models: no model listed: {str(models)[:200]}") from err
        self._tokenize_paths = self._probe_tokenizer()
        self.capabilities = Capabilities(
            native_tool_calls=True,
            token_level=self._tokenize_paths is not None,
            streaming=self.stream,
        )

    def _root(self) -> str:
        return self.base_url.removesuffix("/v1")

    def _probe_tokenizer(self) -> tuple[str, str] | None:
        for tokenize, detokenize in (
            ("/extras/tokenize", "/extras/detokenize"),
            ("/tokenize", "/detokenize"),
        ):
            try:
                answer = self._request(
                    "POST", self._root() + tokenize, {"input": "a", "content": "a"}, retry=False
                )
            except RemoteError:
                continue
            if isinstance(answer, dict) and isinstance(answer.get("tokens"), list):
                return tokenize, detokenize
        return None

    def tokenize(self, text: str, *, add_special: bool = False) -> list[int]:
        if self._tokenize_paths is None:
            data = text.encode("utf-8")
            return [
                len(c) << 32 | int.from_bytes(c, "big")
                for c in (data[i : i + 4] for i in range(0, len(data), 4))
            ]
        body = {"input": text, "content": text, "add_special": add_special, "model": self.model}
        answer = self._request("POST", self._root() + self._tokenize_paths[0], body)
        return [int(t) for t in answer["tokens"]]

    def detokenize(self, tokens: Sequence[int]) -> str:
        if self._tokenize_paths is None:
            chunks = ((t & 0xFFFFFFFF).to_bytes(t >> 32, "big") for t in tokens)
            return b"".join(chunks).decode("utf-8", errors="replace")
        answer = self._request("POST", self._root() + self._tokenize_paths[1], {"tokens": list(tokens)})
        text = answer.get("text", answer.get("content"))
        if not isinstance(text, str):
            raise RemoteError(f"{self._root()}{self._tokenize_paths[1]}: no text in {str(answer)[:200]}")
        return text

    def generate(self, request: GenerationRequest, on_token: TokenCallback | None = None) -> Generation:
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
        }
        if request.seed is not None:
            body["seed"] = request.seed
        if request.stop:
            body["stop"] = list(request.stop)
        constraint = request.constraint
        if request.prompt is not None:
            endpoint = "/completions"
            body["prompt"] = request.prompt
        else:
            endpoint = "/chat/completions"
            body["messages"] = [{"role": m.role, "content": m.content} for m in request.messages]
        if constraint is not None:
            if request.prompt is not None:
                body["messages"] = [{"role": "user", "content": body.pop("prompt")}]
                endpoint = "/chat/completions"
            function = {"name": constraint.name, "parameters": dict(constraint.json_schema)}
            body["tools"] = [{"type": "function", "function": function}]
            body["tool_choice"] = {"type": "function", "function": {"name": constraint.name}}
        url = self.base_url + endpoint
        started = time.perf_counter()
        if self.stream:
            text, reason, usage, times = self._stream(url, body, started, constraint is not None, on_token)
            elapsed = time.perf_counter() - started
            tokens = tuple(self.tokenize(text))
            generated = int(usage.get("completion_tokens", len(times)))
            stats = _stream_stats(times, elapsed, int(usage.get("prompt_tokens", 0)), generated)
        else:
            answer = self._request("POST", url, body)
            elapsed = time.perf_counter() - started
            try:
                choice = answer["choices"][0]
                text = _choice_text(choice, constraint is not None)
                reason = _FINISH.get(str(choice.get("finish_reason") or "stop"), "stop")
            except (KeyError, IndexError, TypeError) as err:
                raise RemoteError(f"{url}: answer is not an OpenAI completion: {str(answer)[:200]}") from err
            usage = answer.get("usage") or {}
            tokens = tuple(self.tokenize(text))  # the server's own ids when it can tokenize, else approximate
            generated = int(usage.get("completion_tokens", len(tokens)))
            if on_token is not None:
                for token in tokens:
                    on_token(token, self.detokenize([token]))
            stats = _stats(answer.get("timings"), elapsed, int(usage.get("prompt_tokens", 0)), generated)
        enforced = constraint is not None and self.enforces_schema
        return Generation(
            text=text,
            tokens=tokens,
            finish_reason=reason,
            constrained=enforced,
            stats=stats,
            engine="server" if enforced else None,
        )

    def _stream(
        self,
        url: str,
        body: dict[str, Any],
        started: float,
        constrained: bool,
        on_token: TokenCallback | None,
    ) -> tuple[str, FinishReason, Mapping[str, Any], list[float]]:
        """Server-sent events: (text, finish reason, usage if sent, arrival time of each piece)."""
        response = self._send("POST", url, {**body, "stream": True}, stream=True)
        pieces: list[str] = []
        times: list[float] = []
        reason: FinishReason = "stop"
        usage: Mapping[str, Any] = {}
        tool_call = False
        try:
            for line in response.iter_lines():
                data = line.removeprefix("data:").strip()
                if not line.startswith("data:") or not data:
                    continue
                if data == "[DONE]":
                    break
                try:
                    chunk = json.loads(data)
                except json.JSONDecodeError as err:
                    raise RemoteError(f"{url}: stream chunk is not JSON: {data[:200]!r}") from err
                usage = chunk.get("usage") or usage
                for choice in chunk.get("choices") or []:
                    piece, from_tool = _delta_text(choice)
                    tool_call |= from_tool
                    if piece:
                        times.append(time.perf_counter() - started)
                        pieces.append(piece)
                        if on_token is not None:
                            on_token(-1, piece)
                    if choice.get("finish_reason"):
                        reason = _FINISH.get(str(choice["finish_reason"]), "stop")
        except httpx.TimeoutException as err:
            raise RemoteError(f"{url}: stream stalled for more than {self._timeout:g} s") from err
        except httpx.TransportError as err:
            raise RemoteError(f"{url}: stream broken ({type(err).__name__}: {err})") from err
        finally:
            response.close()
        text = "".join(pieces)
        return (recover_tool_arguments(text) if constrained and not tool_call else text), reason, usage, times

    def _send(
        self, method: str, url: str, body: Any = None, *, retry: bool = True, stream: bool = False
    ) -> httpx.Response:
        """A successful (status < 400) response after bounded retries; RemoteError naming `url` otherwise.
        With `stream`, the body is not read yet (the caller closes the response)."""
        if self._client is None:
            raise RemoteError(f"{url}: load() the backend first")
        attempts = 1 + (self._retries if retry else 0)
        problem = ""
        for attempt in range(attempts):
            if attempt:
                time.sleep(min(0.5 * 2 ** (attempt - 1), MAX_BACKOFF_S))
            try:
                request = self._client.build_request(method, url, json=body)
                response = self._client.send(request, stream=stream)
                if stream and response.status_code >= 400:
                    response.read()
                    response.close()
            except httpx.TimeoutException:
                problem = f"no answer within {self._timeout:g} s"
                continue
            except httpx.TransportError as err:
                problem = f"cannot connect ({type(err).__name__}: {err})"
                continue
            if response.status_code in _RETRY_STATUS:
                problem = f"HTTP {response.status_code}: {response.text[:200]}"
                continue
            if response.status_code >= 400:
                raise RemoteError(f"{url}: HTTP {response.status_code}: {response.text[:300]}")
            return response
        raise RemoteError(f"{url}: {problem} (after {attempts} attempt{'s' if attempts > 1 else ''})")

    def _request(self, method: str, url: str, body: Any = None, *, retry: bool = True) -> Any:
        """One JSON request/answer (see `_send`)."""
        response = self._send(method, url, body, retry=retry)
        try:
            return response.json()
        except ValueError as err:
            raise RemoteError(f"{url}: answer is not JSON: {response.text[:200]!r}") from err

    def memory_report(self) -> Mapping[str, int]:
        return {}

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _choice_text(choice: Mapping[str, Any], constrained: bool) -> str:
    if "text" in choice and "message" not in choice:
        return str(choice["text"])
    message = choice["message"]
    for call in message.get("tool_calls") or []:
        arguments = call["function"]["arguments"]
        return arguments if isinstance(arguments, str) else json.dumps(arguments)
    content = message.get("content") or ""
    return recover_tool_arguments(content) if constrained else str(content)


def _delta_text(choice: Mapping[str, Any]) -> tuple[str, bool]:
    """The text a streamed choice adds, and whether it came from a tool call's arguments."""
    if "text" in choice and "delta" not in choice:
        return str(choice["text"] or ""), False
    delta = choice.get("delta") or {}
    arguments = "".join(
        str((call.get("function") or {}).get("arguments") or "") for call in delta.get("tool_calls") or []
    )
    if arguments:
        return arguments, True
    return str(delta.get("content") or ""), False


def _stream_stats(times: list[float], elapsed: float, prompt_tokens: int, generated: int) -> GenerationStats:
    first = times[0] if times else elapsed
    return GenerationStats(
        prompt_tokens=prompt_tokens,
        prompt_tokens_evaluated=prompt_tokens,
        prompt_seconds=first,
        time_to_first_token=first,
        generated_tokens=generated,
        generation_seconds=times[-1] - times[0] if times else 0.0,
        token_times=tuple(times) if len(times) == generated else (),
    )


def _stats(timings: Any, elapsed: float, prompt_tokens: int, generated: int) -> GenerationStats:
    if isinstance(timings, Mapping) and "prompt_ms" in timings and "predicted_ms" in timings:
        prompt_seconds = float(timings["prompt_ms"]) / 1000
        return GenerationStats(
            prompt_tokens=prompt_tokens,
            prompt_tokens_evaluated=int(timings.get("prompt_n", prompt_tokens)),
            prompt_seconds=prompt_seconds,
            time_to_first_token=elapsed,
            generated_tokens=generated,
            generation_seconds=float(timings["predicted_ms"]) / 1000,
        )
    return GenerationStats(
        prompt_tokens=prompt_tokens,
        prompt_tokens_evaluated=prompt_tokens,
        prompt_seconds=0.0,
        time_to_first_token=elapsed,
        generated_tokens=generated,
        generation_seconds=0.0,
    )
