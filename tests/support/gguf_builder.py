"""Small GGUF v3 files built in memory, for parser, fit and remote-header tests."""

from __future__ import annotations

import struct


def gguf_str(s: str | bytes) -> bytes:
    raw = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(raw)) + raw


def kv_u32(key: str, value: int) -> bytes:
    return gguf_str(key) + struct.pack("<II", 4, value)


def build_gguf(
    kvs: list[bytes] | None = None, tensors: list[tuple[str, tuple[int, ...], int, int]] | None = None,
    *, n_tensors: int | None = None, n_kv: int | None = None, data: bytes | None = None,
) -> bytes:  # fmt: skip
    """A small GGUF v3 file: metadata bytes as given, tensor infos (name, shape, ggml type, offset), data."""
    kvs = (
        kvs
        if kvs is not None
        else [gguf_str("general.architecture") + struct.pack("<I", 8) + gguf_str("llama")]
    )
    tensors = tensors if tensors is not None else [("token_embd.weight", (32, 4), 0, 0)]
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors) if n_tensors is None else n_tensors,
                                 len(kvs) if n_kv is None else n_kv)  # fmt: skip
    infos = b"".join(
        gguf_str(name) + struct.pack("<I", len(shape)) + b"".join(struct.pack("<Q", d) for d in shape)
        + struct.pack("<IQ", gtype, offset)
        for name, shape, gtype, offset in tensors
    )  # fmt: skip
    body = head + b"".join(kvs) + infos
    body += b"\0" * (-len(body) % 32)
    return body + (data if data is not None else b"\0" * (32 * 4 * 4))
