"""A threaded HTTP server on 127.0.0.1 driven by one function, for servers that speak JSON (OpenAI-compatible
or Ollama-like) and misbehave on purpose when a test needs it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Handler = Callable[[str, str, bytes], tuple[int, bytes]]
"""(method, path, body) -> (status, response body)."""


@contextmanager
def serve(handler: Handler, content_type: str = "application/json") -> Iterator[str]:
    """The server on a free port until the block ends; yields its root URL ("http://127.0.0.1:PORT")."""

    class _Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            status, body = handler(self.command, self.path, self.rfile.read(length))
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                return  # the client gave up (a timeout test)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.block_on_close = False  # a handler still sleeping (slow-server test) must not delay teardown
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
