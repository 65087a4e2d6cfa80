"""Ollama's native chat endpoint, for constrained calls: `POST /api/chat` with `format` = the JSON schema.

Request and answer follow ollama's api/types.go: `ChatRequest{model, messages, stream, format, options}` with
sampling in `options` (num_predict, temperature, top_p, seed, stop); `stream` defaults to true there, so it is
sent as false. `ChatResponse{message{role, content}, done, done_reason}` plus `Metrics` (prompt_eval_count,
prompt_eval_duration, eval_count, eval_duration; durations in nanoseconds).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backends.base import FinishReason, GenerationRequest, GenerationStats, RemoteError

CHAT_PATH = "/api/chat"
VERSION_PATH = "/api/version"


def chat_body(request: GenerationRequest, model: str | None) -> dict[str, Any]:
    if request.constraint is None:
        raise RemoteError("ollama /api/chat is used for constrained calls only")
    options: dict[str, Any] = {
        "num_predict": request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
    }
    if request.seed is not None:
        options["seed"] = request.seed
    if request.stop:
        options["stop"] = list(request.stop)
    if request.prompt is not None:
        messages = [{"role": "user", "content": request.prompt}]
    else:
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
    return {
        "model": model,
        "messages": messages,
        "stream": False,
        "format": dict(request.constraint.json_schema),
        "options": options,
    }


def chat_answer(
    answer: Mapping[str, Any], url: str, elapsed: float
) -> tuple[str, FinishReason, GenerationStats]:
    """(text, finish reason, stats) of a non-streamed `/api/chat` answer; RemoteError if it is not one."""
    try:
        text = str(answer["message"]["content"] or "")
    except (KeyError, TypeError) as err:
        raise RemoteError(f"{url}: answer is not an Ollama chat response: {str(answer)[:200]}") from err
    reason: FinishReason = "length" if answer.get("done_reason") == "length" else "stop"
    prompt_tokens = int(answer.get("prompt_eval_count") or 0)
    stats = GenerationStats(
        prompt_tokens=prompt_tokens,
        prompt_tokens_evaluated=prompt_tokens,
        prompt_seconds=int(answer.get("prompt_eval_duration") or 0) / 1e9,
        time_to_first_token=elapsed,
        generated_tokens=int(answer.get("eval_count") or 0),
        generation_seconds=int(answer.get("eval_duration") or 0) / 1e9,
    )
    return text, reason, stats
