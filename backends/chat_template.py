"""Chat templates from model metadata, rendered in a Jinja2 sandbox.

A GGUF (or tokenizer_config.json) carries its chat template as Jinja2 source written by whoever published
the model: it is untrusted code, so it runs in `ImmutableSandboxedEnvironment` (no attribute access to
internals, no mutation of the passed objects). A model without a template (base models such as
Gemma-3-270M) gets `FALLBACK_TEMPLATE`, a plain "Role: text" layout, and `ChatTemplate.note` says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from backends.base import BackendError, Message

FALLBACK_TEMPLATE = (
    "{% for message in messages %}"
    "{{ message['role'] | capitalize }}: {{ message['content'] }}\n\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}Assistant:{% endif %}"
)


class ChatTemplateError(BackendError):
    """The model's chat template is not valid Jinja2 or failed while rendering."""


def _raise_exception(message: str) -> NoReturn:
    raise TemplateError(message)


def _strftime_now(fmt: str) -> str:
    return datetime.now().strftime(fmt)


@dataclass(frozen=True)
class ChatTemplate:
    source: str
    """The Jinja2 text."""
    origin: str
    """"gguf" (the model's own) or "fallback"."""
    bos_token: str = ""
    eos_token: str = ""
    note: str | None = None

    @classmethod
    def from_metadata(
        cls, metadata: Mapping[str, str], *, bos_token: str = "", eos_token: str = "", where: str = "model"
    ) -> ChatTemplate:
        text = metadata.get("tokenizer.chat_template")
        if text:
            return cls(text, "gguf", bos_token, eos_token)
        note = f"{where} has no chat template (base model?): using a plain 'Role: text' layout"
        return cls(FALLBACK_TEMPLATE, "fallback", bos_token, eos_token, note)

    def render(self, messages: Sequence[Message], *, add_generation_prompt: bool = True) -> str:
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        env.globals["raise_exception"] = _raise_exception
        env.globals["strftime_now"] = _strftime_now
        context: dict[str, Any] = {
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "add_generation_prompt": add_generation_prompt,
            "bos_token": self.bos_token,
            "eos_token": self.eos_token,
        }
        try:
            return env.from_string(self.source).render(**context)
        except TemplateError as err:
            raise ChatTemplateError(f"chat template ({self.origin}) failed: {err}") from err
