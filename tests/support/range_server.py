"""A small HTTP file server on 127.0.0.1 that counts the body bytes it sends, with or without Range support.
Used by the tests and scripts/bench_fit.py to measure what the remote header reader really transfers."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CHUNK = 1 << 16


@dataclass
class ServerStats:
    bytes_sent: int = 0
    requests: int = 0
    ranges: list[tuple[int, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, n: int) -> None:
        with self.lock:
            self.bytes_sent += n


def _handler(root: Path, stats: ServerStats, ranges: bool) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            path = (root / self.path.lstrip("/").split("?")[0]).resolve()
            if root.resolve() not in path.parents or not path.is_file():
                self.send_error(404)
                return
            size = path.stat().st_size
            stats.requests += 1
            match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
            if ranges and match:
                first = int(match.group(1))
                last = min(int(match.group(2)) if match.group(2) else size - 1, size - 1)
                if first >= size:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                stats.ranges.append((first, last))
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
            else:
                first, last = 0, size - 1
                self.send_response(200)
            self.send_header("Content-Length", str(last - first + 1))
            self.end_headers()
            self._send(path, first, last)

        def _send(self, path: Path, first: int, last: int) -> None:
            with path.open("rb") as fh:
                fh.seek(first)
                left = last - first + 1
                while left > 0:
                    chunk = fh.read(min(CHUNK, left))
                    # counted before the write: a chunk the client receives is always counted already
                    stats.add(len(chunk))
                    try:
                        self.wfile.write(chunk)
                    except OSError:  # the client closed the connection: stop sending
                        return
                    left -= len(chunk)

    return Handler


@contextmanager
def serve_files(root: Path, *, ranges: bool = True) -> Iterator[tuple[str, ServerStats]]:
    """Serve `root` on 127.0.0.1:<free port>; yields (base URL, stats)."""
    stats = ServerStats()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(root, stats, ranges))
    server.daemon_threads = False
    server.block_on_close = True  # server_close() waits for the handlers, so the stats are final
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", stats
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
