"""The buffer sizes llama.cpp prints while loading a model: the only place its C API reports them."""

from __future__ import annotations

import ctypes
import re

import llama_cpp

_BUFFER_LINE = re.compile(r"(\w+) (model|KV|compute|output) buffer size =\s*([\d.]+) MiB")


class LoadLog:
    """Collects llama.cpp's log lines while active (a context manager), and the buffer sizes in them:
    `buffers` maps model_bytes / kv_bytes / compute_bytes / output_bytes to bytes summed over devices."""

    def __init__(self) -> None:
        self.buffers: dict[str, int] = {}
        self.lines: list[str] = []
        self.callback = llama_cpp.llama_log_callback(self._on_log)

    def _on_log(self, level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        line = text.decode("utf-8", errors="replace")
        self.lines.append(line)
        for match in _BUFFER_LINE.finditer(line):
            key = f"{match.group(2).lower()}_bytes"
            self.buffers[key] = self.buffers.get(key, 0) + int(float(match.group(3)) * 1024 * 1024)

    def last_error(self) -> str:
        """The last logged line that mentions an error ("" if none), to explain a failed load."""
        return next((line.strip() for line in reversed(self.lines) if "error" in line.lower()), "")

    def __enter__(self) -> LoadLog:
        llama_cpp.llama_log_set(self.callback, ctypes.c_void_p(0))
        return self

    def __exit__(self, *exc: object) -> None:
        from llama_cpp import _logger

        llama_cpp.llama_log_set(_logger.llama_log_callback, ctypes.c_void_p(0))
