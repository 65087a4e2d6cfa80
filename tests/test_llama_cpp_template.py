"""Chat templates: the model's own Jinja2 runs sandboxed; a model without one gets a plain layout."""

from __future__ import annotations

import pytest

from backends.base import Message
from backends.chat_template import ChatTemplate, ChatTemplateError

MESSAGES = (Message("system", "Be brief."), Message("user", "Hi"))


def test_gguf_template_is_rendered_with_generation_prompt() -> None:
    source = (
        "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{{ eos_token }}{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>{% endif %}"
    )
    template = ChatTemplate.from_metadata(
        {"tokenizer.chat_template": source}, bos_token="<s>", eos_token="</s>"
    )
    assert template.origin == "gguf" and template.note is None
    assert template.render(MESSAGES) == "<s><|system|>Be brief.</s><|user|>Hi</s><|assistant|>"


def test_missing_template_falls_back_with_a_note() -> None:
    template = ChatTemplate.from_metadata({}, where="gemma.gguf")
    assert template.origin == "fallback" and template.note is not None and "gemma.gguf" in template.note
    assert template.render(MESSAGES) == "System: Be brief.\n\nUser: Hi\n\nAssistant:"


@pytest.mark.parametrize(
    "hostile",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{% set x = messages.append({'role': 'user', 'content': 'injected'}) %}{{ messages }}",
        "{{ raise_exception('template refuses') }}",
    ],
)
def test_hostile_or_failing_templates_raise_a_named_error(hostile: str) -> None:
    template = ChatTemplate.from_metadata({"tokenizer.chat_template": hostile})
    with pytest.raises(ChatTemplateError, match="chat template"):
        template.render(MESSAGES)
