"""A ByteSource over bytes in memory, for parser tests and fuzzing."""

from __future__ import annotations


class BytesSource:
    """Bytes in memory, read through the ByteSource protocol of runner.fit.sources."""

    def __init__(self, data: bytes, name: str = "<bytes>") -> None:
        self.name = name
        self.bytes_read = 0
        self._data = data

    def size(self) -> int | None:
        return len(self._data)

    def read(self, offset: int, length: int) -> bytes:
        data = self._data[offset : offset + max(0, length)]
        self.bytes_read += len(data)
        return data
