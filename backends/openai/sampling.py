"""Repetition control and thinking over HTTP: the server samples, so each is asked for in the server's own
terms where it has them, and refused (`UnsupportedCapability`) where it has none — never silently dropped.

- presence/frequency penalties: the OpenAI fields `presence_penalty` / `frequency_penalty`, which every
  OpenAI-compatible server takes; llama-server and Ollama also take the window (`repeat_last_n`).
- DRY: llama-server's `dry_*` fields only (Ollama, LM Studio, vLLM and llama-cpp-python have no DRY sampler).
- thinking before a constrained call: the server renders the template and owns the decode loop, so lapbench
  cannot open a bounded thinking segment there.
"""

from __future__ import annotations

from typing import Any

from backends.base import GenerationRequest, RepetitionControl, UnsupportedCapability


def check_thinking(request: GenerationRequest, where: str) -> None:
    if request.think_tokens > 0:
        raise UnsupportedCapability(
            f"{where}: --think needs a backend whose decode loop lapbench runs (llama-cpp or mlx), "
            "not an HTTP server; run without --think"
        )


def repetition_fields(control: RepetitionControl | None, server: str, where: str) -> dict[str, Any]:
    """Body fields of `/chat/completions` and `/completions` for `control` on a server of kind `server`."""
    if control is None or not control.active:
        return {}
    fields: dict[str, Any] = {}
    if control.presence_penalty:
        fields["presence_penalty"] = control.presence_penalty
    if control.frequency_penalty:
        fields["frequency_penalty"] = control.frequency_penalty
    if server in ("llama-server", "ollama"):
        fields["repeat_last_n"] = control.window
    if control.dry_multiplier > 0.0:
        if server != "llama-server":
            raise UnsupportedCapability(
                f"{where}: a {server} server has no DRY sampler (llama-server has); run with --dry 0"
            )
        fields.update(
            dry_multiplier=control.dry_multiplier,
            dry_base=control.dry_base,
            dry_allowed_length=control.dry_allowed_length,
            dry_penalty_last_n=control.window,
            dry_sequence_breakers=list(control.dry_breakers),
        )
    return fields
