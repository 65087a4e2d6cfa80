"""Sequential reading of a ByteSource in growing chunks, for the GGUF header parser."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from runner.fit.sources import ByteSource

if TYPE_CHECKING:
    from runner.fit.gguf_header import GGUFHeaderError

MAX_STRING_LEN = 1 << 28
MAX_HEADER_BYTES = 1 << 28  # real headers are a few MiB (the vocabulary); refuse to fetch more


class Cursor:
    """Sequential reads over a ByteSource in growing chunks; skips do not fetch."""

    def __init__(self, source: ByteSource, first_chunk: int, max_chunk: int) -> None:
        self.source = source
        self.size = source.size()
        self.pos = 0
        self._buf = b""
        self._buf_start = 0
        self._chunk = first_chunk
        self._max_chunk = max_chunk

    def fail(self, problem: str, at: int | None = None) -> GGUFHeaderError:
        from runner.fit.gguf_header import GGUFHeaderError

        return GGUFHeaderError(self.source.name, self.pos if at is None else at, problem)

    def remaining(self) -> int:
        return (self.size - self.pos) if self.size is not None else MAX_STRING_LEN * 64

    def take(self, n: int) -> bytes:
        if n < 0 or n > self.remaining():
            raise self.fail(f"needs {n} bytes but the file ends first (truncated)")
        if self.pos + n > MAX_HEADER_BYTES:
            raise self.fail(f"header is larger than {MAX_HEADER_BYTES >> 20} MiB")
        lo = self.pos - self._buf_start
        if lo < 0 or lo + n > len(self._buf):
            keep = self._buf[lo:] if 0 <= lo < len(self._buf) else b""
            want = max(n - len(keep), self._chunk)
            self._chunk = min(self._chunk * 2, self._max_chunk)
            got = self.source.read(self.pos + len(keep), want)
            self._buf, self._buf_start, lo = keep + got, self.pos, 0
            if len(self._buf) < n:
                raise self.fail(f"needs {n} bytes but only {len(self._buf)} remain (truncated)")
        self.pos += n
        return self._buf[lo : lo + n]

    def skip_strings(self, count: int, endian: str) -> None:
        """Skip `count` length-prefixed strings (a vocabulary) scanning the buffer in place: much faster
        than one take() per string, and the strings themselves are never copied."""
        unpack = struct.Struct(endian + "Q").unpack_from
        done = 0
        while done < count:
            buf, lo = self._buf, self.pos - self._buf_start
            while done < count and lo >= 0 and lo + 8 <= len(buf):
                n = unpack(buf, lo)[0]
                if lo + 8 + n > len(buf):
                    break
                lo, done = lo + 8 + n, done + 1
            self.pos = self._buf_start + max(lo, self.pos - self._buf_start)
            if done < count:
                at = self.pos
                n = struct.unpack(endian + "Q", self.take(8))[0]
                if n > MAX_STRING_LEN:
                    raise self.fail(f"string length {n} is absurd", at)
                self.skip(n)
                done += 1
        if self.size is not None and self.pos > self.size:
            raise self.fail("string array runs past the end of the file (truncated)")

    def skip(self, n: int) -> None:
        if n < 0 or n > self.remaining():
            raise self.fail(f"skips {n} bytes past the end of the file (truncated)")
        self.pos += n
