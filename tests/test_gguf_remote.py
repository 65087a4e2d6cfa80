"""Remote GGUF headers through real HTTP on 127.0.0.1: only header bytes travel; no Range → clear error."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest

from runner.fit.remote import HTTPRangeSource, RangeNotSupportedError, RemoteReadError
from runner.fit.resolve import local_gguf, remote_gguf
from tests.support.gguf_builder import build_gguf, gguf_str, kv_u32
from tests.support.range_server import serve_files

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def model_dir(smollm2_gguf: Path, gemma_gguf: Path) -> Path:
    return smollm2_gguf.parent


@pytest.mark.model
@pytest.mark.parametrize("name", ["SmolLM2-135M-Instruct.Q4_1.gguf", "gemma-3-270m-q4_k_m.gguf"])
def test_remote_header_reads_only_the_header(model_dir: Path, name: str) -> None:
    path = model_dir / name
    with serve_files(model_dir) as (url, stats):
        remote = remote_gguf(f"{url}/{name}")
    local = local_gguf(path)
    assert remote.arch == local.arch.__class__(**{**local.arch.__dict__, "source": remote.arch.source})
    assert remote.file_size == path.stat().st_size
    # what the client counted is what the server sent, and it is a small part of the file
    assert remote.bytes_read == stats.bytes_sent
    # the vocabulary is located, not downloaded: issue 8's goal is at most 2 MiB and 1% of the file
    assert stats.bytes_sent <= min(2 * 2**20, 0.01 * path.stat().st_size)
    assert all(last - first < 2**20 for first, last in stats.ranges)


@pytest.mark.model
def test_server_without_range_is_refused_without_downloading(smollm2_gguf: Path) -> None:
    size = smollm2_gguf.stat().st_size
    with serve_files(smollm2_gguf.parent, ranges=False) as (url, stats):
        with pytest.raises(RangeNotSupportedError, match="ignored the Range request") as info:
            remote_gguf(f"{url}/{smollm2_gguf.name}")
        assert "Range" in (info.value.hint or "")
    # the connection was closed at once: only what the socket buffers took left the server
    assert stats.bytes_sent < size // 4


def test_split_gguf_parts_are_summed(tmp_path: Path) -> None:
    arch = gguf_str("general.architecture") + struct.pack("<I", 8) + gguf_str("llama")
    first = build_gguf([arch, kv_u32("llama.block_count", 2), kv_u32("llama.embedding_length", 32),
                        kv_u32("llama.attention.head_count", 4)])  # fmt: skip
    rest = build_gguf([kv_u32("split.no", 1)])
    for i in (1, 2, 3):
        (tmp_path / f"m-{i:05d}-of-00003.gguf").write_bytes(first if i == 1 else rest)
    one = local_gguf(tmp_path / "m-00001-of-00003.gguf")
    single = tmp_path / "single.gguf"
    shutil.copy(tmp_path / "m-00001-of-00003.gguf", single)
    assert one.arch.weights_bytes == 3 * (local_gguf(single).arch.weights_bytes or 0)
    with serve_files(tmp_path) as (url, _stats):
        remote = remote_gguf(f"{url}/m-00001-of-00003.gguf")
    assert remote.arch.weights_bytes == one.arch.weights_bytes


@pytest.mark.model
def test_remote_vocabulary_skip_is_exact_even_when_it_falls_back(smollm2_gguf: Path) -> None:
    from runner.fit import gguf_skip
    from runner.fit.gguf_header import parse_gguf_header

    with serve_files(smollm2_gguf.parent) as (url, _stats):
        fast = parse_gguf_header(HTTPRangeSource(f"{url}/{smollm2_gguf.name}"))
        slow = parse_gguf_header(HTTPRangeSource(f"{url}/{smollm2_gguf.name}"), speculate=False)
        original = gguf_skip._candidates
        gguf_skip._candidates = lambda window, base, p: []  # type: ignore[assignment]
        try:
            fallback = parse_gguf_header(HTTPRangeSource(f"{url}/{smollm2_gguf.name}"))
        finally:
            gguf_skip._candidates = original
    assert fast.tensors == slow.tensors == fallback.tensors
    assert fast.data_offset == slow.data_offset == fallback.data_offset
    assert fast.bytes_read < slow.bytes_read // 2


def test_remote_skip_survives_a_vocabulary_full_of_fake_keys(tmp_path: Path) -> None:
    # Every token looks like the start of the next metadata key: the skip must verify, not guess.
    tokens = [gguf_str(f"tokenizer.ggml.fake{i}") for i in range(6000)]
    vocab = gguf_str("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, len(tokens)) + b"".join(tokens)
    arch = gguf_str("general.architecture") + struct.pack("<I", 8) + gguf_str("llama")
    blob = build_gguf([arch, kv_u32("llama.block_count", 2), vocab, kv_u32("tokenizer.ggml.bos_token_id", 1)])
    (tmp_path / "fake.gguf").write_bytes(blob)
    from runner.fit.gguf_header import parse_gguf_header
    from tests.support.bytes_source import BytesSource

    exact = parse_gguf_header(BytesSource(blob))
    with serve_files(tmp_path) as (url, _stats):
        remote = parse_gguf_header(HTTPRangeSource(f"{url}/fake.gguf"))
    assert remote.metadata == exact.metadata
    assert remote.tensors == exact.tensors and remote.data_offset == exact.data_offset


def test_missing_remote_file_is_a_clear_error(tmp_path: Path) -> None:
    with serve_files(tmp_path) as (url, _stats), pytest.raises(RemoteReadError, match="404"):
        HTTPRangeSource(f"{url}/nope.gguf").size()
