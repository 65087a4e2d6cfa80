"""Byte sources the header parsers read from: a local file, or (runner.fit.remote) an HTTP Range reader."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from runner.errors import ModelFileError


class ByteSource(Protocol):
    """Random access to the bytes of one file. `read` may return fewer bytes than asked only at the end."""

    name: str

    @property
    def bytes_read(self) -> int: ...

    def size(self) -> int | None: ...

    def read(self, offset: int, length: int) -> bytes: ...


class FileSource:
    """A local file, read with pread so that only the requested bytes are touched."""

    def __init__(self, path: Path) -> None:
        self.name = str(path)
        self.bytes_read = 0
        try:
            self._fd = os.open(path, os.O_RDONLY)
        except OSError as err:
            raise ModelFileError(f"cannot open {path}: {err.strerror}", hint="check the path") from err
        self._size = os.fstat(self._fd).st_size

    def size(self) -> int | None:
        return self._size

    def read(self, offset: int, length: int) -> bytes:
        data = os.pread(self._fd, max(0, min(length, self._size - offset)), offset)
        self.bytes_read += len(data)
        return data

    def close(self) -> None:
        os.close(self._fd)

    def __enter__(self) -> FileSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class CachingSource:
    """Remembers every range fetched from `inner`, so that re-reading a region (a speculative parse that
    is verified, then adopted) costs nothing. `bytes_read` is the inner source's: real transfers only."""

    def __init__(self, inner: ByteSource) -> None:
        self.inner = inner
        self.name = inner.name
        self._segments: list[tuple[int, bytes]] = []

    @property
    def bytes_read(self) -> int:
        return self.inner.bytes_read

    def size(self) -> int | None:
        return self.inner.size()

    def read(self, offset: int, length: int) -> bytes:
        for start, data in self._segments:
            if start <= offset and offset + length <= start + len(data):
                return data[offset - start : offset - start + length]
        data = self.inner.read(offset, length)
        self._segments.append((offset, data))  # list.append is atomic: safe for the parallel samples
        return data
