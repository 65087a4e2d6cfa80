"""A Hugging Face-like hub on 127.0.0.1 for `pull` and `fit`: `/<org>/<repo>/resolve/<rev>/<file>` (HEAD, and
GET with Range) and `/api/models/<org>/<repo>/tree/<rev>` listings, which is all huggingface_hub asks for.
`use_hub` points huggingface_hub and lapbench at it (HF_ENDPOINT) and lifts the tests' offline switch."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CHUNK = 1 << 20


def _read(source: bytes | Path, start: int, end: int) -> Iterator[bytes]:
    """Bytes start..end (inclusive) of an in-memory body or a file, in chunks."""
    if isinstance(source, bytes):
        yield source[start : end + 1]
        return
    with source.open("rb") as handle:
        handle.seek(start)
        left = end + 1 - start
        while left > 0 and (block := handle.read(min(CHUNK, left))):
            left -= len(block)
            yield block


def _handler(files: dict[str, bytes | Path], log: list[str]) -> type[BaseHTTPRequestHandler]:
    def size(source: bytes | Path) -> int:
        return len(source) if isinstance(source, bytes) else source.stat().st_size

    class Hub(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return

        def _file(self) -> tuple[str, bytes | Path] | None:
            match = re.fullmatch(r"/([^/]+/[^/]+)/resolve/[^/]+/(.+)", self.path.split("?")[0])
            key = f"{match.group(1)}/{match.group(2)}" if match else ""
            return (key, files[key]) if key in files else None

        def do_HEAD(self) -> None:
            found = self._file()
            if not found:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("X-Repo-Commit", "a" * 40)
            self.send_header("ETag", f'"{size(found[1])}-etag"')
            self.send_header("Content-Length", str(size(found[1])))
            self.end_headers()

        def _listing(self, repo: str) -> None:
            listing = [{"type": "file", "path": key[len(repo) + 1 :], "size": size(body), "oid": "0" * 40}
                       for key, body in files.items() if key.startswith(repo + "/")]  # fmt: skip
            body = json.dumps(listing).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            listing = re.match(r"/api/models/([^/]+/[^/]+)/tree/", self.path)
            if listing:
                self._listing(listing.group(1))
                return
            found = self._file()
            if not found:
                self.send_error(404)
                return
            log.append(found[0])
            total = size(found[1])
            match = re.match(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
            start = int(match.group(1)) if match else 0
            end = min(int(match.group(2)), total - 1) if match and match.group(2) else total - 1
            self.send_response(206 if match else 200)
            if match:
                self.send_header("Content-Range", f"bytes {start}-{end}/{total}")
            self.send_header("Content-Length", str(end + 1 - start))
            self.end_headers()
            for block in _read(found[1], start, end):
                self.wfile.write(block)

    return Hub


@contextmanager
def serve_hub(files: dict[str, bytes | Path]) -> Iterator[tuple[str, list[str]]]:
    """(endpoint URL, log of the files whose bytes were requested) for files keyed `org/repo/path`."""
    log: list[str] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(files, log))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", log
    finally:
        server.shutdown()
        server.server_close()


def use_hub(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    import huggingface_hub.constants

    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
