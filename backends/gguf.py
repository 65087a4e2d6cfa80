"""What the backends read from a GGUF file before handing it to a library: its header, never its tensors.

Shared by the llama.cpp backend (refuse a file before llama.cpp crashes on it) and the MLX converter (refuse
an architecture it cannot convert before `mlx.core.load` decodes every tensor). Only `struct` here, so
importing it costs nothing.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

from backends.base import ModelLoadError

GGUF_MAGIC = b"GGUF"
_HEADER_BYTES = 24  # magic, version, tensor count, key/value count
# GGUF value types -> byte size of fixed-size scalars (8 = string, 9 = array are variable-sized).
_SCALAR_BYTES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_STRING, _ARRAY = 8, 9


def check_gguf_file(path: Path) -> None:
    """Refuse what no backend should be handed: missing, not a GGUF, or cut off inside its header."""
    if not path.is_file():
        raise ModelLoadError(f"{path}: GGUF file not found")
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(_HEADER_BYTES)
    if head[:4] != GGUF_MAGIC:
        raise ModelLoadError(
            f"{path}: not a GGUF file (bad magic bytes {head[:4]!r}, expected {GGUF_MAGIC!r})"
        )
    if size < _HEADER_BYTES or int.from_bytes(head[4:8], "little") not in (2, 3):
        raise ModelLoadError(f"{path}: truncated or unsupported GGUF header ({size} bytes)")


def gguf_architecture(path: Path) -> str | None:
    """`general.architecture`, read from the header's key/value section only (mlx.core.load would decode
    every tensor first and fails outright on K-quants; gguf.GGUFReader parses the whole vocabulary)."""
    with path.open("rb") as handle:
        try:
            handle.seek(8)  # magic + version
            _, n_kv = struct.unpack("<QQ", _read(handle, 16))
            for _ in range(n_kv):
                key = _read(handle, struct.unpack("<Q", _read(handle, 8))[0]).decode("utf-8")
                kind = struct.unpack("<I", _read(handle, 4))[0]
                if key == "general.architecture" and kind == _STRING:
                    return _read(handle, struct.unpack("<Q", _read(handle, 8))[0]).decode("utf-8")
                _skip_value(handle, kind)
        except (struct.error, UnicodeDecodeError, ValueError, EOFError) as err:
            raise ModelLoadError(
                f"{path}: cannot read the GGUF header (truncated or corrupt?): {err}"
            ) from err
    return None


def _read(handle: BinaryIO, size: int) -> bytes:
    data = handle.read(size)
    if len(data) != size:
        raise EOFError(f"header ends after {handle.tell()} bytes")
    return data


def _skip_value(handle: BinaryIO, kind: int) -> None:
    if kind == _STRING:
        handle.seek(struct.unpack("<Q", _read(handle, 8))[0], 1)
    elif kind == _ARRAY:
        item_kind, count = struct.unpack("<IQ", _read(handle, 12))
        if item_kind in _SCALAR_BYTES:
            handle.seek(count * _SCALAR_BYTES[item_kind], 1)
        else:
            for _ in range(count):
                _skip_value(handle, item_kind)
    elif kind in _SCALAR_BYTES:
        handle.seek(_SCALAR_BYTES[kind], 1)
    else:
        raise ValueError(f"unknown GGUF value type {kind}")
