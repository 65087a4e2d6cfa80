"""The GGUF header parser on the two real models, and on truncated, hostile and fuzzed headers."""

from __future__ import annotations

import contextlib
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.fit.gguf_header import ArraySummary, GGUFHeaderError, parse_gguf_header
from runner.fit.sources import FileSource
from tests.support.bytes_source import BytesSource
from tests.support.gguf_builder import build_gguf, gguf_str, kv_u32


@pytest.mark.model
def test_parses_smollm2_header(smollm2_gguf: Path) -> None:
    with FileSource(smollm2_gguf) as source:
        header = parse_gguf_header(source)
    assert header.architecture == "llama"
    assert header.arch_value("block_count") == 30
    assert header.arch_value("attention.head_count_kv") == 3
    assert len(header.tensors) == 272
    assert header.n_params == 134515008
    # every tensor byte is accounted for: header + aligned data = the file
    assert header.data_offset + header.tensor_bytes == smollm2_gguf.stat().st_size
    assert isinstance(header.metadata["tokenizer.ggml.merges"], ArraySummary)
    assert header.metadata["tokenizer.ggml.merges"].count == 48900
    # only the header was read, not the weights
    assert source.bytes_read < 3 * 2**20


@pytest.mark.model
def test_parses_gemma_header(gemma_gguf: Path) -> None:
    with FileSource(gemma_gguf) as source:
        header = parse_gguf_header(source)
    assert header.architecture == "gemma3"
    assert header.arch_value("attention.sliding_window") == 512
    assert header.arch_value("attention.key_length") == 256
    assert header.metadata["tokenizer.ggml.tokens"].count == 262144
    assert header.data_offset + header.tensor_bytes == gemma_gguf.stat().st_size
    embd = next(t for t in header.tensors if t.name == "token_embd.weight")
    assert embd.shape == (640, 262144)


def test_small_built_file_parses() -> None:
    header = parse_gguf_header(BytesSource(build_gguf()))
    assert header.architecture == "llama"
    assert header.tensors[0].n_bytes == 32 * 4 * 4  # f32


@pytest.mark.parametrize(
    ("blob", "problem"),
    [
        (b"GGUX" + b"\0" * 60, "magic"),
        (build_gguf(n_tensors=2**40), "tensor count"),
        (build_gguf(n_kv=2**33), "metadata count"),
        (build_gguf(kvs=[gguf_str("k") + struct.pack("<IQ", 8, 2**62)]), "string length"),
        (build_gguf(kvs=[gguf_str("k") + struct.pack("<IIQ", 9, 4, 2**50)]), "array length"),
        (build_gguf(kvs=[gguf_str("k") + struct.pack("<II", 99, 0)]), "unknown value type"),
        (build_gguf(kvs=[struct.pack("<Q", 2**40) + b"x"]), "length"),
        (build_gguf(tensors=[("t", (32, 4), 0, 2**40)]), "beyond the end"),
        (build_gguf(tensors=[("t", (32, 4), 0, 3)]), "not aligned"),
        (build_gguf(tensors=[("t", (32,) * 7, 0, 0)]), "dimensions"),
        (build_gguf(tensors=[("t", (32, 4), 1234, 0)]), "unknown ggml type"),
        (build_gguf(tensors=[("t", (33, 4), 2, 0)]), "block size"),
        (build_gguf(tensors=[("t", (2**40, 2**40), 0, 0)]), "absurd shape"),
        (build_gguf(kvs=[kv_u32("a", 1), kv_u32("a", 2)]), "duplicate"),
        (build_gguf(kvs=[kv_u32("general.alignment", 24)]), "power of two"),
    ],
)
def test_hostile_headers_raise_named_errors(blob: bytes, problem: str) -> None:
    with pytest.raises(GGUFHeaderError) as info:
        parse_gguf_header(BytesSource(blob, name="evil.gguf"))
    assert problem in info.value.message
    assert "evil.gguf" in info.value.message and "at byte" in info.value.message


@pytest.mark.model
def test_truncated_real_header_names_the_offset(smollm2_gguf: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    with smollm2_gguf.open("rb") as fh:
        cut.write_bytes(fh.read(1_000_000))  # inside the vocabulary
    with FileSource(cut) as source, pytest.raises(GGUFHeaderError, match="truncated"):
        parse_gguf_header(source)


def test_every_truncation_of_a_small_file_is_an_error() -> None:
    blob = build_gguf(kvs=[kv_u32("llama.block_count", 2), gguf_str("tokenizer.ggml.tokens")
                           + struct.pack("<IIQ", 9, 8, 3) + gguf_str("a") + gguf_str("bc") + gguf_str("d")])  # fmt: skip
    header_end = parse_gguf_header(BytesSource(blob)).header_size
    for cut in range(header_end):
        with pytest.raises(GGUFHeaderError):
            parse_gguf_header(BytesSource(blob[:cut]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzz_mutated_headers_never_crash(data: st.DataObject) -> None:
    blob = bytearray(build_gguf(kvs=[kv_u32("llama.block_count", 2), gguf_str("general.name") + struct.pack("<I", 8)
                                     + gguf_str("fuzz"), gguf_str("arr") + struct.pack("<IIQ", 9, 5, 3) + b"\1\0\0\0" * 3]))  # fmt: skip
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, len(blob) - 1))
        blob[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(blob)))
    source = BytesSource(bytes(blob[:cut]))
    try:
        header = parse_gguf_header(source)
    except GGUFHeaderError:
        return
    assert header.data_offset <= len(blob)
    assert source.bytes_read <= len(blob)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=0, max_size=512))
def test_fuzz_random_bytes_after_magic(tail: bytes) -> None:
    with contextlib.suppress(GGUFHeaderError):
        parse_gguf_header(BytesSource(b"GGUF\3\0\0\0" + tail))
