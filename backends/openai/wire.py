"""The OpenAI-compatible protocol as data: where the server is, request bodies, reading answers, stats.

A constraint travels as the server obeys it (`enforce.py`): a `response_format`, whose answer is the JSON
content, or one forced tool (`Constraint.name`, parameters = `Constraint.json_schema`), whose answer is the
tool call's JSON arguments. Servers that answer a forced tool call with plain content instead
(`<tool_call>{...}</tool_call>` tags, a fenced ```json block, or bare JSON) are recovered.

Stats are client wall-clock. Non-streaming, every token becomes known when the answer arrives, so
`time_to_first_token` is the round trip and `generation_seconds` 0 (llama-server's `timings`, when sent,
give the server-side prompt and generation seconds instead). Streaming, `time_to_first_token` and
`token_times` are arrival times of the pieces, and `prompt_seconds` = time to first token: an upper bound
(it includes one decode step and the network). Token counts come from `usage` (else one per piece).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Any

import httpx

from backends.base import FinishReason, GenerationRequest, GenerationStats, LoadConfig, RemoteError
from backends.openai.enforce import Mode, constraint_fields

_TAGGED = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)
_FENCED = re.compile(r"```(?:json)?\s*\n?(.*?)```", re.DOTALL)
FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "stop",
    "function_call": "stop",
}


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


def request_body(
    request: GenerationRequest, model: str | None, mode: Mode = "tool"
) -> tuple[str, dict[str, Any]]:
    """(endpoint, JSON body): `/completions` for a raw prompt, `/chat/completions` for messages or a
    constraint (a constrained raw prompt becomes one user message), the constraint carried as `mode` asks."""
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
    }
    if request.seed is not None:
        body["seed"] = request.seed
    if request.stop:
        body["stop"] = list(request.stop)
    constraint = request.constraint
    if request.prompt is not None and constraint is None:
        body["prompt"] = request.prompt
        return "/completions", body
    if request.prompt is not None:
        body["messages"] = [{"role": "user", "content": request.prompt}]
    else:
        body["messages"] = [{"role": m.role, "content": m.content} for m in request.messages]
    if constraint is not None:
        body.update(constraint_fields(constraint, mode))
    return "/chat/completions", body


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


def answer_text(answer: Mapping[str, Any], url: str, constrained: bool) -> tuple[str, FinishReason]:
    """The text and finish reason of a (non-streamed) completion; RemoteError if it is not one."""
    try:
        choice = answer["choices"][0]
        text = _choice_text(choice, constrained)
        reason = FINISH.get(str(choice.get("finish_reason") or "stop"), "stop")
    except (KeyError, IndexError, TypeError) as err:
        raise RemoteError(f"{url}: answer is not an OpenAI completion: {str(answer)[:200]}") from err
    return text, reason


def _choice_text(choice: Mapping[str, Any], constrained: bool) -> str:
    if "text" in choice and "message" not in choice:
        return str(choice["text"])
    message = choice["message"]
    for call in message.get("tool_calls") or []:
        arguments = call["function"]["arguments"]
        return arguments if isinstance(arguments, str) else json.dumps(arguments)
    content = message.get("content") or ""
    return recover_tool_arguments(content) if constrained else str(content)


def delta_text(choice: Mapping[str, Any]) -> tuple[str, bool]:
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


def stream_stats(times: list[float], elapsed: float, prompt_tokens: int, generated: int) -> GenerationStats:
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


def answer_stats(timings: Any, elapsed: float, prompt_tokens: int, generated: int) -> GenerationStats:
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
