"""Free-mode output: the JSON is recovered from fences, chatter, trailing commas and double encoding,
each repair is named, and what cannot be recovered is an error, never a guess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.schemas import LenientParseError, parse_lenient
from runner.schemas.lenient import validate_text

DATA = Path(__file__).parent / "data" / "schemas"
ANALYZE = json.loads((DATA / "analyze.valid.json").read_text())


def test_plain_json_needs_no_repair() -> None:
    result = parse_lenient(json.dumps(ANALYZE), "analyze")
    assert result.data == ANALYZE
    assert result.repairs == ()


def test_code_fence_chatter_and_trailing_commas() -> None:
    body = json.dumps(ANALYZE, indent=2).replace("\n  ]", ",\n  ]").replace("\n}", ",\n}")
    text = f"Sure! Here is the analysis:\n```json\n{body}\n```\nLet me know if you need more."
    result = parse_lenient(text, "analyze")
    assert result.data == ANALYZE
    assert result.repairs == ("code_fence", "trailing_commas")


def test_leading_and_trailing_chatter_without_fence() -> None:
    text = 'I will call the tool now. {"a": [1, 2, {"b": "}"}]} Done, {"c": 1}'
    result = parse_lenient(text)
    assert result.data == {"a": [1, 2, {"b": "}"}]}
    assert result.repairs == ("leading_text", "trailing_text")


def test_commas_inside_strings_are_kept() -> None:
    result = parse_lenient('x {"a": "1, ]", "b": [1, 2, ], }')
    assert result.data == {"a": "1, ]", "b": [1, 2]}
    assert "trailing_commas" in result.repairs


def test_whole_document_double_encoded() -> None:
    result = parse_lenient(json.dumps(json.dumps(ANALYZE)), "analyze")
    assert result.data == ANALYZE
    assert result.repairs == ("double_encoded",)


def test_object_encoded_as_string_inside_a_field() -> None:
    data = json.loads(json.dumps(ANALYZE))
    data["actors"][1] = json.dumps(data["actors"][1])
    data["rules"] = json.dumps(data["rules"])
    result = parse_lenient(json.dumps(data), "analyze")
    assert result.data == ANALYZE
    assert result.repairs.count("nested_double_encoded") == 2


def test_string_fields_that_look_like_json_stay_strings() -> None:
    data = json.loads(json.dumps(ANALYZE))
    data["rules"][0]["description"] = '{"not": "decoded"}'
    result = parse_lenient(json.dumps(data), "analyze")
    assert result.data["rules"][0]["description"] == '{"not": "decoded"}'


def test_tool_call_envelope_is_unwrapped() -> None:
    text = json.dumps({"name": "write_analyze", "arguments": json.dumps(ANALYZE)})
    result = parse_lenient(text, "analyze")
    assert result.data == ANALYZE
    assert "tool_call_envelope" in result.repairs


@pytest.mark.parametrize(
    ("text", "reason"),
    [("no json here", "no JSON object"), ('{"actors": [', "not closed"), ('{"a": tru}', "invalid JSON")],
)
def test_unrecoverable_text_raises(text: str, reason: str) -> None:
    with pytest.raises(LenientParseError, match=reason):
        parse_lenient(text)


def test_validate_text_reports_parse_failure_as_unplaced_error() -> None:
    report, result = validate_text("analyze", '```json\n{"actors": [\n```')
    assert result is None
    assert not report.valid
    assert [(e.kind, e.placed) for e in report.errors] == [("json_invalid", False)]
    assert "Errors without a place" in report.feedback_text()


def test_validate_text_validates_recovered_document() -> None:
    report, result = validate_text("analyze", "Here:\n" + json.dumps(ANALYZE) + "\nThanks")
    assert report.valid
    assert result is not None and result.repairs == ("leading_text", "trailing_text")
