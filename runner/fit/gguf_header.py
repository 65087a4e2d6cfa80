"""Our own GGUF header parser: metadata key/values and tensor infos, never the weights.

It reads through a `ByteSource` (a local file or an HTTP Range reader), so the same code parses a model on
disk and one on a server. Input is treated as hostile: every count and length is checked against the bytes
that can still exist in the file and against fixed limits before anything is allocated, and every failure
is a `GGUFHeaderError` naming the file/URL and the byte offset. Large arrays (the tokenizer vocabulary) are
summarised, not kept, so memory stays bounded whatever the header claims.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cache
from typing import Any

from runner.errors import ModelFileError
from runner.fit.gguf_cursor import MAX_STRING_LEN, Cursor
from runner.fit.sources import ByteSource, CachingSource

GGUF_MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32
MAX_TENSORS = 1 << 20  # far above any real model (DeepSeek-V3 has ~1,100 tensors per split)
MAX_KV = 1 << 16
MAX_NAME_LEN = 1 << 10  # keys and tensor names (ggml caps tensor names at 64 bytes)
MAX_ARRAY_DEPTH = 3
MAX_DIMS = 4  # GGML_MAX_DIMS
KEEP_ARRAY_ITEMS = 4096  # per-layer arrays are kept; vocabularies are summarised
KEEP_STRING_LEN = 1 << 16
KEEP_BUDGET = 16 << 20  # total bytes of kept values
SPECULATE_MIN_ITEMS = 4096  # remote vocabularies this large are skipped by locating their end (gguf_skip)
MAX_SPEC_DEPTH, MAX_VERIFICATIONS = 3, 200

# GGUF value type id -> (struct format, size); 8 = string, 9 = array.
_SCALARS: dict[int, tuple[str, int]] = {
    0: ("B", 1), 1: ("b", 1), 2: ("H", 2), 3: ("h", 2), 4: ("I", 4), 5: ("i", 4),
    6: ("f", 4), 7: ("?", 1), 10: ("Q", 8), 11: ("q", 8), 12: ("d", 8),
}  # fmt: skip
_STRING, _ARRAY = 8, 9


class GGUFHeaderError(ModelFileError):
    """A GGUF header that is truncated, malformed or hostile."""

    def __init__(self, source: str, offset: int, problem: str) -> None:
        super().__init__(
            f"{source}: bad GGUF header at byte {offset}: {problem}",
            hint="the file is truncated or not a GGUF model; download it again",
        )
        self.source = source
        self.offset = offset


@dataclass(frozen=True)
class ArraySummary:
    """A metadata array too large to keep (e.g. tokenizer.ggml.tokens): its element type and length."""

    item_type: int
    count: int


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    ggml_type: int
    offset: int
    n_elements: int
    n_bytes: int


@dataclass(frozen=True)
class GGUFHeader:
    source: str
    version: int
    metadata: dict[str, Any]
    tensors: tuple[TensorInfo, ...]
    data_offset: int
    file_size: int | None
    bytes_read: int = 0
    header_size: int = 0

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", "unknown"))

    def arch_value(self, suffix: str, default: Any = None) -> Any:
        """A `<architecture>.<suffix>` key, e.g. `block_count`."""
        return self.metadata.get(f"{self.architecture}.{suffix}", default)

    @property
    def tensor_bytes(self) -> int:
        return sum(t.n_bytes for t in self.tensors)

    @property
    def n_params(self) -> int:
        return sum(t.n_elements for t in self.tensors)


@cache
def ggml_type_sizes() -> dict[int, tuple[int, int]]:
    """ggml type id -> (elements per block, bytes per block), from the gguf package's table."""
    from gguf import GGML_QUANT_SIZES

    return {int(k): (int(v[0]), int(v[1])) for k, v in GGML_QUANT_SIZES.items()}


class _Finished(Exception):
    """Raised by a speculative skip that parsed (and verified) the rest of the header."""

    def __init__(self, value: ArraySummary, rest: tuple[dict[str, Any], list[TensorInfo], int]) -> None:
        self.value, self.rest = value, rest


class _Parser:
    def __init__(self, cur: Cursor, endian: str, speculate: bool = False) -> None:
        self.cur = cur
        self.e = endian
        self.kept = 0
        self.speculate = speculate
        self.spec_depth = 0  # nested skips: the vocabulary, then the merges verified inside its check
        self.verify_budget = [MAX_VERIFICATIONS]  # shared by nested parsers: bounded work on hostile input
        self.kv_left = 0
        self.n_tensors = 0
        self.metadata: dict[str, Any] = {}

    def scalar(self, fmt: str, size: int) -> Any:
        return struct.unpack(self.e + fmt, self.cur.take(size))[0]

    def u32(self) -> int:
        return int(self.scalar("I", 4))

    def u64(self) -> int:
        return int(self.scalar("Q", 8))

    def key(self) -> str:
        at = self.cur.pos
        n = self.u64()
        if n > MAX_NAME_LEN:
            raise self.cur.fail(f"key or name length {n} is absurd", at)
        return self.cur.take(n).decode("utf-8", errors="replace")

    def string(self, limit: int, keep: bool = True) -> str | None:
        at = self.cur.pos
        n = self.u64()
        if n > limit or n > self.cur.remaining():
            raise self.cur.fail(f"string length {n} is absurd", at)
        if not keep or n > KEEP_STRING_LEN or self.kept + n > KEEP_BUDGET:
            self.cur.skip(n)
            return None
        self.kept += n
        return self.cur.take(n).decode("utf-8", errors="replace")

    def value(self, vtype: int, depth: int = 0) -> Any:
        if vtype in _SCALARS:
            return self.scalar(*_SCALARS[vtype])
        if vtype == _STRING:
            return self.string(MAX_STRING_LEN)
        if vtype == _ARRAY:
            return self.array(depth)
        raise self.cur.fail(f"unknown value type {vtype}", self.cur.pos - 4)

    def array(self, depth: int) -> Any:
        at = self.cur.pos
        if depth >= MAX_ARRAY_DEPTH:
            raise self.cur.fail("arrays nested too deeply", at)
        item_type, count = self.u32(), self.u64()
        min_item = (
            _SCALARS[item_type][1] if item_type in _SCALARS else 8 if item_type in (_STRING, _ARRAY) else 0
        )
        if min_item == 0:
            raise self.cur.fail(f"unknown array item type {item_type}", at)
        if count * min_item > self.cur.remaining():
            raise self.cur.fail(f"array length {count} does not fit in the file", at)
        keep = count <= KEEP_ARRAY_ITEMS and self.kept + count * 8 <= KEEP_BUDGET
        if item_type in _SCALARS and not keep:
            self.cur.skip(count * min_item)  # numeric arrays are skipped without being fetched
            return ArraySummary(item_type, count)
        if item_type in _SCALARS:
            self.kept += count * 8
            fmt, size = _SCALARS[item_type]
            raw = self.cur.take(count * size)
            return list(struct.unpack(f"{self.e}{count}{fmt}", raw))
        if keep:
            return [self.value(item_type, depth + 1) for _ in range(count)]
        if item_type == _STRING:
            if (
                self.speculate
                and depth == 0
                and count >= SPECULATE_MIN_ITEMS
                and self.spec_depth < MAX_SPEC_DEPTH
            ):
                from runner.fit.gguf_skip import skip_string_array_remotely

                rest = skip_string_array_remotely(self, count)
                if rest is not None:
                    raise _Finished(ArraySummary(item_type, count), rest)
            self.cur.skip_strings(count, self.e)
            return ArraySummary(item_type, count)
        for _ in range(count):
            self.skip_value(item_type, depth + 1)
        return ArraySummary(item_type, count)

    def skip_value(self, vtype: int, depth: int) -> None:
        if vtype == _STRING:
            self.string(MAX_STRING_LEN, keep=False)
        else:
            self.array(depth)


def parse_gguf_header(
    source: ByteSource, *, first_chunk: int = 1 << 16, max_chunk: int = 1 << 20, speculate: bool | None = None
) -> GGUFHeader:
    """Parse the header of the GGUF file behind `source`; raises GGUFHeaderError on bad input.

    For a remote source (`source.remote`) the vocabulary arrays are not downloaded: their end is located and
    verified instead (runner.fit.gguf_skip), falling back to reading them when that fails."""
    speculate = bool(getattr(source, "remote", False)) if speculate is None else speculate
    src: ByteSource = CachingSource(source) if speculate else source
    cur = Cursor(src, first_chunk, max_chunk)
    if cur.take(4) != GGUF_MAGIC:
        raise cur.fail("not a GGUF file (magic bytes differ)", 0)
    raw_version = cur.take(4)
    endian = "<" if struct.unpack("<I", raw_version)[0] < 0x10000 else ">"
    version = struct.unpack(endian + "I", raw_version)[0]
    if version not in (2, 3):
        raise cur.fail(f"unsupported GGUF version {version}", 4)
    p = _Parser(cur, endian, speculate)
    n_tensors, n_kv = p.u64(), p.u64()
    if n_tensors > MAX_TENSORS or n_tensors * 24 > cur.remaining():
        raise cur.fail(f"tensor count {n_tensors} is absurd", 8)
    if n_kv > MAX_KV or n_kv * 13 > cur.remaining():
        raise cur.fail(f"metadata count {n_kv} is absurd", 16)
    metadata, raw_tensors, header_size = parse_body(p, n_kv, n_tensors)
    alignment = header_alignment(cur, metadata)
    data_offset = -(-header_size // alignment) * alignment
    tensors = check_offsets(cur, raw_tensors, data_offset, alignment)
    return GGUFHeader(
        source=source.name, version=version, metadata=metadata, tensors=tuple(tensors),
        data_offset=data_offset, file_size=cur.size, bytes_read=source.bytes_read, header_size=header_size,
    )  # fmt: skip


def parse_body(p: _Parser, n_kv: int, n_tensors: int) -> tuple[dict[str, Any], list[TensorInfo], int]:
    """From the parser's position: n_kv metadata pairs then n_tensors tensor infos; (metadata, infos, end)."""
    metadata = p.metadata
    p.n_tensors = n_tensors
    for index in range(n_kv):
        at = p.cur.pos
        key = p.key()
        if key in metadata:
            raise p.cur.fail(f"duplicate metadata key {key!r}", at)
        p.kv_left = n_kv - index - 1
        try:
            metadata[key] = p.value(p.u32())
        except _Finished as done:
            metadata[key] = done.value
            rest_meta, tensors, end = done.rest
            for rest_key, value in rest_meta.items():
                if rest_key in metadata:
                    raise p.cur.fail(f"duplicate metadata key {rest_key!r}") from None
                metadata[rest_key] = value
            return metadata, tensors, end
    sizes = ggml_type_sizes()
    tensors = [_tensor_info(p, sizes) for _ in range(n_tensors)]
    return metadata, tensors, p.cur.pos


def header_alignment(cur: Cursor, metadata: dict[str, Any]) -> int:
    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if not isinstance(alignment, int) or alignment <= 0 or alignment & (alignment - 1) or alignment > 1 << 20:
        raise cur.fail(f"general.alignment {alignment!r} is not a power of two")
    return alignment


def _tensor_info(p: _Parser, sizes: dict[int, tuple[int, int]]) -> TensorInfo:
    at = p.cur.pos
    name = p.key()
    n_dims = p.u32()
    if not 1 <= n_dims <= MAX_DIMS:
        raise p.cur.fail(f"tensor {name!r} has {n_dims} dimensions", at)
    shape = tuple(p.u64() for _ in range(n_dims))
    ggml_type, offset = p.u32(), p.u64()
    if ggml_type not in sizes:
        raise p.cur.fail(f"tensor {name!r} has unknown ggml type {ggml_type}", at)
    n_elements = 1
    for d in shape:
        n_elements *= d
        if d <= 0 or n_elements >= 1 << 62:
            raise p.cur.fail(f"tensor {name!r} has absurd shape {shape}", at)
    block, block_bytes = sizes[ggml_type]
    if shape[0] % block:
        raise p.cur.fail(f"tensor {name!r} row of {shape[0]} is not a multiple of the block size {block}", at)
    return TensorInfo(name, shape, ggml_type, offset, n_elements, n_elements // block * block_bytes)


def check_offsets(
    cur: Cursor, tensors: list[TensorInfo], data_offset: int, alignment: int
) -> list[TensorInfo]:
    data_size = None if cur.size is None else cur.size - data_offset
    for t in tensors:
        if t.offset % alignment:
            raise cur.fail(f"tensor {t.name!r} offset {t.offset} is not aligned to {alignment}")
        if data_size is not None and t.offset + t.n_bytes > data_size:
            raise cur.fail(f"tensor {t.name!r} data ({t.offset}+{t.n_bytes}) lies beyond the end of the file")
    return tensors
