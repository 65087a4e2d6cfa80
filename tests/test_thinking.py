"""Thinking before the constrained call: the format read from real chat templates, and the two-stage decode
on a scripted model."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.base import Constraint, GenerationRequest, Message, UnsupportedCapability
from backends.chat_template import FALLBACK_TEMPLATE, ChatTemplate
from backends.grammar.decode import DecodeResult, Sampling
from backends.thinking import (
    ANALYSIS_CHANNEL,
    THINK_TAGS,
    ThinkFormat,
    Thought,
    decode_with_thinking,
    open_segment,
    requested_format,
    think_format,
)
from tests.support.scripted_thinking import EOS, AnswerMatcher, WordSource, tok, tokenize

TEMPLATES = Path(__file__).parent / "data" / "templates"
CHAT = (Message("system", "Answer with a tool call."), Message("user", "Plan the tables."))
CHATML = (  # a ChatML template without thinking (SmolLM2's layout)
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def rendered(name: str) -> tuple[str, str]:
    source = (TEMPLATES / name).read_text()
    return source, ChatTemplate(source, "gguf", bos_token="<bos>").render(CHAT)


@pytest.mark.parametrize(
    ("name", "fmt", "opened_end"),
    [
        ("qwen3.jinja", THINK_TAGS, "<|im_start|>assistant\n<think>\n"),
        ("deepseek-r1-distill-qwen.jinja", THINK_TAGS, "<｜Assistant｜><think>\n"),
        ("gpt-oss.jinja", ANALYSIS_CHANNEL, "<|start|>assistant<|channel|>analysis<|message|>"),
    ],
)
def test_a_reasoning_template_gets_its_own_segment_opened_once(
    name: str, fmt: ThinkFormat, opened_end: str
) -> None:
    source, prompt = rendered(name)
    assert think_format(source) == fmt
    opened = open_segment(prompt, fmt)
    assert opened.endswith(opened_end)
    assert opened.count(opened_end) == 1  # DeepSeek-R1 opens <think> itself: not a second time


def test_a_model_without_a_thinking_format_is_refused_by_name() -> None:
    assert think_format(FALLBACK_TEMPLATE) is None and think_format(CHATML) is None
    constraint = Constraint(json_schema={"type": "object"})
    request = GenerationRequest(messages=CHAT, constraint=constraint, think_tokens=32)
    with pytest.raises(
        UnsupportedCapability, match=r"^SmolLM2\.gguf: its chat template has no thinking format"
    ):
        requested_format(request, CHATML, "SmolLM2.gguf")
    assert requested_format(GenerationRequest(messages=CHAT, constraint=constraint), CHATML, "m") is None
    qwen3 = (TEMPLATES / "qwen3.jinja").read_text()
    assert requested_format(request, qwen3, "qwen3.gguf") == THINK_TAGS
    with pytest.raises(UnsupportedCapability, match="constrained chat calls only"):
        requested_format(GenerationRequest(messages=CHAT, think_tokens=8), qwen3, "qwen3.gguf")


def run(
    after: dict[str, str], budget: int, fmt: ThinkFormat = THINK_TAGS
) -> tuple[WordSource, DecodeResult, Thought]:
    source = WordSource(after)
    result, thought = decode_with_thinking(
        source, fmt, budget, sampling=Sampling(max_tokens=8), eog_tokens=[EOS],
        matcher=AnswerMatcher(["{", "}"]), tokenize=tokenize, started=0.0,
    )  # fmt: skip
    assert thought is not None
    return source, result, thought


def test_a_model_that_closes_its_thought_then_answers_under_the_grammar() -> None:
    after = {"<prompt>": "a", "a": "b", "b": "</think>", "\n\n": "{", "{": "}"}
    source, result, thought = run(after, budget=10)
    assert thought.closed_by_model and thought.text == "ab"
    # the closing tag the model wrote is evaluated, then the separator is forced, then the answer follows
    assert source.evaluated == ["<prompt>", "a", "b", "</think>", "\n\n", "{"]
    assert result.text == "{}" and result.finish_reason == "grammar"
    assert result.tokens == [tok(w) for w in ("a", "b", "</think>", "\n\n", "{", "}")]
    assert len(thought.tokens) == 4 and thought.forced_tokens == 1


def test_an_endless_thought_is_closed_at_the_budget_and_the_answer_keeps_its_own_budget() -> None:
    source, result, thought = run({}, budget=5)  # the model only ever wants "a"
    assert not thought.closed_by_model and thought.text == "aaaaa"
    assert source.evaluated == ["<prompt>", *"aaaaa", "</think>", "\n\n", "{"]
    # the grammar turns the answer into the one document even though the logits still favour "a"
    assert result.text == "{}" and result.finish_reason == "grammar"
    assert len(thought.tokens) == 7 and thought.forced_tokens == 2


def test_the_analysis_channel_is_closed_and_the_final_channel_opened() -> None:
    source, result, _ = run({}, budget=2, fmt=ANALYSIS_CHANNEL)
    final = "<|start|>assistant<|channel|>final<|message|>"
    assert source.evaluated == ["<prompt>", "a", "a", "<|end|>", final, "{"]
    assert result.text == "{}"
